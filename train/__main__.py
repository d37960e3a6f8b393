"""`python -m train sft|dpo|reward|rlhf ...`: the same commands as `curate train`, for `accelerate launch -m train`."""

import sys

from train.cli import main

sys.exit(main(prog_name="python -m train"))
