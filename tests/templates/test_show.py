"""`show_row` / `format_row`: the row as training sees it, trained tokens marked."""

import pyarrow as pa

from curate.templates.show import format_row, show_row
from curate.templates.tokenizer import LocalTokenizer


def test_preference_row_shows_prompt_and_chosen(tokenizer_dir):
    tok = LocalTokenizer.load(tokenizer_dir("llama3", "llama3"))
    table = pa.table({"id": ["p:0"], "prompt": [[{"role": "user", "content": "Two plus two?"}]],
                      "chosen": [[{"role": "assistant", "content": "four"}]],
                      "rejected": [[{"role": "assistant", "content": "five"}]]})
    shown = show_row(table, tok, 0)
    assert format_row(shown).splitlines()[1:] == [
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\\n",
        "\\n",
        "Two plus two?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\\n",
        "\\n",
        "«four<|eot_id|>»",
    ]
    assert "".join(t for t, _, trained in shown.tokens if trained) == "four<|eot_id|>"


def test_text_row_all_trained_with_bos(tokenizer_dir):
    tok = LocalTokenizer.load(tokenizer_dir("llama3", "llama3"))
    shown = show_row(pa.table({"id": ["t:0"], "text": ["Hello there"]}), tok, 0, max_length=2)
    text = format_row(shown)
    assert text.startswith(f"row 0 (id t:0): {len(shown.tokens)} tokens, {len(shown.tokens)} trained; "
                           "tokens after 2 are cut by --max-length\n«<|begin_of_text|>Hello")
    assert format_row(shown, color=True).endswith("\x1b[0m")
