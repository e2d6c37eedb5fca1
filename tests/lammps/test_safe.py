"""lammps_word: the one check for strings pasted into LAMMPS commands; element_symbols."""

from pathlib import Path

import pytest

from deepearth.lammps import create_lammps, element_symbols, lammps_word, run_in_process
from deepearth.lammps.run import split_commands

pytestmark = pytest.mark.reliability("bad input")


@pytest.mark.parametrize("value", [
    "a\nshell touch x", "a\rb", "a\tb", "a\u2028b", "a\x85b", "a\x00b", "a\x0bb", "a\x0cb",  # new lines/commands
    'a"b', "a'b", '"""', "a$b", "${x}", "$(1+1)", "a&", "a#b", "a;b", "a`b", "a\\b",  # parser's specials
    "", "   ", " lead", "trail ",
])
def test_refuses_what_the_lammps_parser_treats_specially(value):
    with pytest.raises(ValueError) as info:
        lammps_word(value, "test.pod: key 'param'")
    msg = str(info.value)
    assert msg.startswith("test.pod: key 'param': ") and "\n" not in msg


def test_plain_words_pass_and_spaces_are_quoted():
    assert lammps_word("/runs/a-1/model.param.txt", "x") == "/runs/a-1/model.param.txt"
    assert lammps_word(Path("/runs/b_2/c.txt"), "x") == "/runs/b_2/c.txt"
    assert lammps_word("/my runs/c.txt", "x") == '"/my runs/c.txt"'
    assert lammps_word("/runs/é/c.txt", "x") == "/runs/é/c.txt"
    with pytest.raises(ValueError, match="holds a space"):
        lammps_word("/my runs/c.txt", "x", allow_spaces=False)
    with pytest.raises(ValueError, match="expected a string"):
        lammps_word(3, "x")
    # a checked word is one command and one argument
    assert split_commands(f"print {lammps_word('/my runs/c.txt', 'x')}") == ['print "/my runs/c.txt"']


def test_a_quoted_word_is_one_argument_in_lammps(tmp_path):
    path = tmp_path / "a b.txt"
    run_in_process([f"print hello file {lammps_word(str(path), 'x')}"], tmp_path)
    assert path.read_text().strip() == "hello"


def test_element_symbols():
    assert element_symbols(["Mg", "O"], "x") == ["Mg", "O"]
    assert element_symbols(("Fe",), "x") == ["Fe"]
    for bad, fault in [(["Mg", "Xx"], "'Xx' is not a chemical element"), (["X"], "not a chemical element"),
                       (["mg"], "not a chemical element"), (["Mg\nshell ls"], "not a chemical element"),
                       (["Mg", 12], "not a chemical element"), (["O", "O"], "repeated"), ([], "no element"),
                       ("MgO", "expected a list"), (None, "expected a list")]:
        with pytest.raises(ValueError, match=fault):
            element_symbols(bad, "type_map")


def test_command_line_arguments_are_checked_before_lammps_loads():
    with pytest.raises(ValueError, match="LAMMPS command-line argument"):
        create_lammps(["-var", "T", "300\nshell touch x"])
