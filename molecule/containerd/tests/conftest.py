import os
import sys

HERE = os.path.dirname(__file__)
sys.path[:0] = [os.path.join(HERE, "..", "..", "shared"), os.path.join(HERE, "..", "..", "..", "tests")]
