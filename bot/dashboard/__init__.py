"""The web dashboard: server-rendered pages over the store, behind a sign-in."""

from bot.dashboard.router import add_signin_redirect, make_dashboard_router

__all__ = ["add_signin_redirect", "make_dashboard_router"]
