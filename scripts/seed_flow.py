#!/usr/bin/python3
"""Plays the seed service's flow against a running Taskwire with ordinary
third-party clients (requests + websockets), as a seed client would.

usage: seed_flow.py http://127.0.0.1:8080
"""
import asyncio
import json
import sys
import uuid

import requests
import websockets


def main(base):
    api = base + "/api/v1"
    tag = uuid.uuid4().hex[:8]
    users = {}
    for name in ("owner", "member"):
        u = f"{name}_{tag}"
        r = requests.post(f"{api}/auth/signup", json={"email": f"{u}@example.com", "username": u, "password": "password123"})
        assert r.status_code == 201, (r.status_code, r.text)
        body = r.json()
        assert set(body) >= {"email", "username", "id"}, body
        r = requests.post(f"{api}/auth/login", data={"username": u, "password": "password123"})
        assert r.status_code == 200, (r.status_code, r.text)
        assert r.json()["token_type"] == "bearer"
        users[name] = (body["id"], r.json()["access_token"])

    owner_id, owner_tok = users["owner"]
    member_id, member_tok = users["member"]
    auth = {"Authorization": f"Bearer {owner_tok}"}

    r = requests.post(f"{api}/projects/", json={"name": "Seed flow", "description": "compat"}, headers=auth)
    assert r.status_code == 201, r.text
    project = r.json()
    assert project["owner_id"] == owner_id
    pid = project["id"]

    r = requests.post(f"{api}/projects/{pid}/members", json={"user_id": member_id}, headers=auth)
    assert r.status_code == 201 and r.json() == {"message": "Member added successfully"}, r.text

    r = requests.get(f"{api}/projects/{pid}", headers=auth)
    assert r.status_code == 200 and len(r.json()["members"]) == 2, r.text

    ws_base = base.replace("http", "ws", 1)
    ws_url = ws_base + f"/ws/projects/{pid}?token={member_tok}"
    owner_url = ws_base + f"/ws/projects/{pid}?token={owner_tok}"

    async def expect(ws, names):
        """The next frames are exactly these events, and then nothing."""
        got = []
        for _ in names:
            got.append(json.loads(await asyncio.wait_for(ws.recv(), timeout=5)))
        assert [m["event"] for m in got] == names, got
        try:
            extra = await asyncio.wait_for(ws.recv(), timeout=0.5)
            raise AssertionError(f"a seed socket received a frame it does not know: {extra}")
        except asyncio.TimeoutError:
            pass
        return got

    async def flow():
        async with websockets.connect(owner_url) as owner_ws:
            r = requests.post(f"{api}/projects/{pid}/tasks", json={"title": "Write docs"}, headers=auth)
            assert r.status_code == 201, r.text
            task = r.json()
            assert task["status"] == "todo" and task["assignee_id"] is None, task
            tid = task["id"]
            first = json.loads(await asyncio.wait_for(owner_ws.recv(), timeout=5))
            assert first["event"] == "task_created" and first["data"]["id"] == tid, first

            # A second member connects mid-flow, with the seed's protocol and
            # with protocol 2; nothing a seed socket receives changes.
            async with websockets.connect(ws_url) as ws, websockets.connect(ws_url + "&v=2") as v2:
                caught_up = json.loads(await asyncio.wait_for(v2.recv(), timeout=5))
                assert caught_up == {"event": "caught_up", "seq": first["seq"]}, caught_up
                r = requests.patch(f"{api}/tasks/{tid}/status", json={"status": "in_progress"}, headers=auth)
                assert r.status_code == 200 and r.json()["status"] == "in_progress", r.text
                r = requests.patch(f"{api}/projects/{pid}", json={"name": "Seed flow, renamed"}, headers=auth)
                assert r.status_code == 200, r.text  # project_updated: not a seed event
                r = requests.put(f"{api}/tasks/{tid}", json={"assignee_id": member_id}, headers=auth)
                assert r.status_code == 200 and r.json()["assignee_id"] == member_id, r.text

                got = await expect(ws, ["status_changed", "task_updated"])
                assert got[0]["data"]["id"] == tid and got[0]["data"]["status"] == "in_progress"
                assert got[1]["data"]["assignee_id"] == member_id
                assert got[1]["seq"] == got[0]["seq"] + 2, got  # the seq counts project_updated too
                owner_got = await expect(owner_ws, ["status_changed", "task_updated"])
                assert [m["seq"] for m in owner_got] == [m["seq"] for m in got]

                events = []
                while len(events) < 3:
                    m = json.loads(await asyncio.wait_for(v2.recv(), timeout=5))
                    if not m["event"].startswith("presence_"):
                        events.append(m["event"])
                assert events == ["status_changed", "project_updated", "task_updated"], events

        # A non-member's socket is refused at the handshake with 403.
        outsider = f"outsider_{tag}"
        requests.post(f"{api}/auth/signup", json={"email": f"{outsider}@example.com", "username": outsider, "password": "password123"})
        tok = requests.post(f"{api}/auth/login", data={"username": outsider, "password": "password123"}).json()["access_token"]
        try:
            async with websockets.connect(ws_base + f"/ws/projects/{pid}?token={tok}"):
                raise AssertionError("non-member socket was accepted")
        except websockets.exceptions.InvalidStatusCode as e:
            assert e.status_code == 403, e.status_code

    asyncio.run(flow())
    print("seed flow OK: signup, form login, project, member, socket events task_created, status_changed, task_updated;"
          " a second member's sockets mid-flow change nothing a seed socket receives")


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8080")
