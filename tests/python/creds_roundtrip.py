"""Connects to a NATS server with a .creds file using nats-py, and checks a
publish reaches its own subscription. Prints `ok <subject> <payload>`.

Usage: creds_roundtrip.py URL CREDS_FILE
"""
import asyncio
import sys

import nats


async def main(url: str, creds: str) -> None:
    nc = await nats.connect(url, user_credentials=creds, connect_timeout=5, max_reconnect_attempts=0)
    sub = await nc.subscribe("interop.py")
    await nc.flush()
    await nc.publish("interop.py", b"from nats-py")
    msg = await sub.next_msg(timeout=5)
    print("ok", msg.subject, msg.data.decode())
    await nc.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
