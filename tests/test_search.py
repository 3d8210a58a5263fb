import io

from gradcheck.checks.cli import main


def test_search_finds_a_small_network_where_code2_is_wrong_and_saves_a_failing_config(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    path = tmp_path / "found.toml"
    assert main(["--search", "code2", "--out", str(path), "--max-examples", "300"], out, err) == 0
    text = out.getvalue()
    assert "smallest network found on which 'code2' is wrong" in text and path.exists()
    status = main([str(path), "--variant", "code2"], io.StringIO(), io.StringIO())
    assert status == 1
    assert main([str(path)], io.StringIO(), io.StringIO()) == 0


def test_search_refuses_the_correct_pass():
    err = io.StringIO()
    assert main(["--search", "correct"], io.StringIO(), err) == 2
    assert "--search takes a wrong variant" in err.getvalue()
