"""DNS-SD peer for osc-query's tests, with the PyPI package zeroconf.

    zeroconf_peer.py browse TYPE SECONDS
        prints a JSON list of the services found: {"name", "port", "addresses"}
    zeroconf_peer.py register INSTANCE TYPE PORT ADDRESS SECONDS
        advertises a service for SECONDS, then withdraws it; prints "registered"
"""
import json
import socket
import sys
import time

from zeroconf import ServiceBrowser, ServiceInfo, ServiceListener, Zeroconf


class Collect(ServiceListener):
    def __init__(self):
        self.found = {}

    def add_service(self, zc, type_, name):
        info = zc.get_service_info(type_, name, 3000)
        if info is not None:
            self.found[name] = {
                "name": name,
                "port": info.port,
                "addresses": info.parsed_addresses(),
            }

    def update_service(self, zc, type_, name):
        self.add_service(zc, type_, name)

    def remove_service(self, zc, type_, name):
        self.found.pop(name, None)


def main():
    zc = Zeroconf()
    try:
        if sys.argv[1] == "browse":
            listener = Collect()
            ServiceBrowser(zc, sys.argv[2], listener)
            time.sleep(float(sys.argv[3]))
            print(json.dumps(sorted(listener.found.values(), key=lambda s: s["name"])))
        elif sys.argv[1] == "register":
            instance, type_, port, address, seconds = sys.argv[2:7]
            info = ServiceInfo(
                type_,
                f"{instance}.{type_}",
                addresses=[socket.inet_aton(address)],
                port=int(port),
                properties={"txtvers": "1"},
                server="zeroconf-peer.local.",
            )
            zc.register_service(info)
            print("registered", flush=True)
            time.sleep(float(seconds))
            zc.unregister_service(info)
        else:
            sys.exit(f"unknown command {sys.argv[1]}")
    finally:
        zc.close()


if __name__ == "__main__":
    main()
