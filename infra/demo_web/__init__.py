"""The demo web: a fictional county's forum and news portal, generated from a seed and driven by
a scenario clock (steady chatter, then a surge about one subject with cross-site reposts)."""
from infra.demo_web.generator import BOARDS, FORUM_SITE, NEWS_SITE, DemoPost
from infra.demo_web.scenario import GroundTruth, Scenario
from infra.demo_web.server import build_app, serve, start_demo_web

__all__ = ["BOARDS", "FORUM_SITE", "NEWS_SITE", "DemoPost", "GroundTruth", "Scenario", "build_app", "serve",
           "start_demo_web"]
