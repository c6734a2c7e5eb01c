"""toot (PyPI), driven as a person would from a terminal: log in, who am I, post, read home."""
import os
import subprocess
import sys
import pathlib

TOOT = str(pathlib.Path(sys.executable).parent / "toot")


def toot(home, *args, stdin=None):
    env = {**os.environ, "HOME": home, "XDG_CONFIG_HOME": os.path.join(home, ".config"), "NO_COLOR": "1", "COLUMNS": "120"}
    return subprocess.run([TOOT, *args], input=stdin, text=True, capture_output=True, env=env, timeout=60)


def test_toot_logs_in_posts_and_reads_home(server, tmp_path):
    home = str(tmp_path)
    login = toot(home, "login_cli", "-i", server.base, "-e", server.username, stdin=server.password + "\n")
    assert login.returncode == 0, login.stdout + login.stderr
    assert "Successfully logged in" in login.stdout

    who = toot(home, "whoami")
    assert who.returncode == 0, who.stderr
    assert "@" + server.username in who.stdout

    post = toot(home, "post", "Hello from toot #petrel https://example.com/page")
    assert post.returncode == 0, post.stderr
    assert "Toot posted" in post.stdout

    home_tl = toot(home, "timelines", "home", "--no-pager", "--no-clear")
    assert home_tl.returncode == 0, home_tl.stderr
    assert "Hello from toot #petrel" in home_tl.stdout
    # No client-side warning or error (getpass's note about echo on a pipe is the test's doing).
    for out in (login, who, post, home_tl):
        noise = [l for l in out.stderr.splitlines() if l.strip() and "getpass" not in l.lower() and "echo" not in l.lower()]
        assert not [l for l in noise if "warn" in l.lower() or "error" in l.lower()], out.stderr


def test_toot_posts_an_image_with_alt_text(server, tmp_path):
    from PIL import Image
    home = str(tmp_path)
    login = toot(home, "login_cli", "-i", server.base, "-e", server.username, stdin=server.password + "\n")
    assert login.returncode == 0, login.stderr
    image = tmp_path / "cat.jpg"
    Image.new("RGB", (800, 600), (90, 90, 90)).save(image)
    post = toot(home, "post", "A grey cat", "-m", str(image), "-d", "A grey square standing in for a cat")
    assert post.returncode == 0, post.stdout + post.stderr
    status_id = post.stdout.strip().rsplit("/", 1)[-1]
    status = __import__("requests").get(f"{server.base}/api/v1/statuses/{status_id}").json()
    assert status["media_attachments"][0]["description"] == "A grey square standing in for a cat"
