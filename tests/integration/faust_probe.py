"""A tiny Faust app run as a real worker process by test_faust_worker.py.

Environment: PROBE_APP_ID, PROBE_IN, PROBE_OUT, PROBE_BROKER. The agent counts posts per site
in a table (changelogged to Kafka) and forwards an enriched record.
"""
import os

import faust

app = faust.App(
    os.environ["PROBE_APP_ID"],
    broker=f"kafka://{os.environ['PROBE_BROKER']}",
    store="memory://",
    web_enabled=False,
    topic_partitions=2,
    topic_replication_factor=1,
)


class Post(faust.Record, serializer="json"):
    post_id: str
    site: str
    text: str


class Tagged(faust.Record, serializer="json"):
    post_id: str
    site: str
    length: int
    site_count: int


posts_in = app.topic(os.environ["PROBE_IN"], value_type=Post, partitions=2)
tagged_out = app.topic(os.environ["PROBE_OUT"], value_type=Tagged, partitions=2)
per_site = app.Table("per_site", default=int, partitions=2)


@app.agent(posts_in)
async def tag(stream):
    async for post in stream.group_by(Post.site, name="by_site"):
        per_site[post.site] += 1
        await tagged_out.send(key=post.post_id, value=Tagged(post.post_id, post.site, len(post.text), per_site[post.site]))
