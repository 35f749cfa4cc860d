"""`python -m bot.cli`: the same as the `smolbot` command."""

from bot.cli import main

main()
