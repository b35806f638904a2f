"""The README's tour runs as written (a newcomer copies it first)."""
import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_tour_runs_and_prints_documented_values(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README has no python block"
    exec(compile(blocks[0], "README.md", "exec"), {"__name__": "__readme__"})
    out = capsys.readouterr().out
    assert "[[5.]\n [7.]\n [9.]]" in out          # w.grad in the autograd part
    assert "[[4. 4. 4.]\n [4. 4. 4.]]" in out      # the KVStore sum of four pushes
