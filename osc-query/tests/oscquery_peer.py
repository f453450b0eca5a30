"""OSCQuery peer for osc-query's tests, with the PyPI package python-oscquery.

    oscquery_peer.py serve NAME HTTP_PORT OSC_PORT IP SECONDS
        serves (and advertises with DNS-SD) a small namespace for SECONDS:
        /synth/freq (float 440.0, read-write), /synth/name (string "lead", read-only),
        /synth/gate (int 1, write-only); prints "serving" once it is up
    oscquery_peer.py read NAME SECONDS PATH...
        browses for the OSCQuery service NAME for up to SECONDS, then reads its
        HOST_INFO and each PATH's subtree with python-oscquery's client; prints one
        JSON object: {"host_info": {...}, "nodes": {FULL_PATH: {"access", "value",
        "description"}}}. (python-oscquery 0.4.0 rejects a node that has an ACCESS
        but no VALUE, which is what a write-only method is, so only readable
        subtrees can be read with it.)
"""
import json
import sys
import time

from pythonoscquery.osc_query_browser import OSCQueryBrowser
from pythonoscquery.osc_query_client import OSCQueryClient
from pythonoscquery.osc_query_service import OSCQueryService
from pythonoscquery.shared.osc_access import OSCAccess
from pythonoscquery.shared.osc_address_space import OSCAddressSpace
from pythonoscquery.shared.osc_path_node import OSCPathNode


def serve(name, http_port, osc_port, ip, seconds):
    space = OSCAddressSpace()
    space.add_node(OSCPathNode("/synth/freq", value=440.0, access=OSCAccess.READWRITE_VALUE,
                               description="frequency"))
    space.add_node(OSCPathNode("/synth/name", value="lead", access=OSCAccess.READONLY_VALUE))
    space.add_node(OSCPathNode("/synth/gate", value=1, access=OSCAccess.WRITEONLY_VALUE))
    service = OSCQueryService(space, name, int(http_port), int(osc_port), ip)
    service.start()
    print("serving", flush=True)
    time.sleep(float(seconds))
    service.stop()


def flatten(node, into):
    if node.full_path is not None:
        into[node.full_path] = {
            "access": None if node.access is None else int(node.access.value),
            "value": node.value,
            "description": node.description,
        }
    for child in node.contents or []:
        flatten(child, into)


def read(name, seconds, *paths):
    browser = OSCQueryBrowser()
    until = time.monotonic() + float(seconds)
    found = None
    while found is None and time.monotonic() < until:
        time.sleep(0.2)
        for info in browser.get_discovered_oscquery():
            if info is not None and info.name.startswith(name + "."):
                found = info
    if found is None:
        sys.exit(f"no OSCQuery service named {name!r} found")
    client = OSCQueryClient(found)
    host = client.get_host_info()
    nodes = {}
    for path in paths:
        flatten(client.query_node(path), nodes)
    print(json.dumps({
        "host_info": {
            "name": host.name,
            "extensions": host.extensions,
            "osc_ip": host.osc_ip,
            "osc_port": host.osc_port,
            "osc_transport": host.osc_transport,
        },
        "nodes": nodes,
    }), flush=True)
    browser.zc.close()


def main():
    if sys.argv[1] == "serve":
        serve(*sys.argv[2:7])
    elif sys.argv[1] == "read":
        read(*sys.argv[2:])
    else:
        sys.exit(f"unknown command {sys.argv[1]}")


if __name__ == "__main__":
    main()
