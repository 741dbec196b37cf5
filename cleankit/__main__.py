from cleankit.cli import app

app(prog_name="cleankit")
