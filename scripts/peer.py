#!/usr/bin/env python3
"""python-osc as an interop peer for osc4rs tests (run with the project's .venv python).

    peer.py send-udp HOST PORT ADDRESS [ARG...]        one message, args typed by python-osc
    peer.py send-tcp HOST PORT MODE ADDRESS [ARG...]   MODE is 1.0 (length prefix) or 1.1 (SLIP)
    peer.py serve-udp COUNT                            prints "READY <port>", then COUNT messages
    peer.py serve-tcp MODE COUNT                       same over TCP
    peer.py ask-udp HOST PORT ADDRESS [ARG...]         a request from a socket connect()ed to the
                                                       server (it sees replies from that address
                                                       only): sends until the first reply comes
                                                       (5 s at most) and prints it
    peer.py encode ADDRESS [ARG...]                    writes the message python-osc builds, raw,
                                                       to standard output
    peer.py serial DEVICE ADDRESS [ARG...]             a board on a serial line: opens DEVICE
                                                       with pyserial (115200 8N1), sends the
                                                       message SLIP-framed by python-osc, then
                                                       prints the first message that comes back

Arguments: ints, floats (with a dot) and anything else as strings. Received messages
print as `ADDRESS ARG...` with repr() of each argument, one line each, flushed.
"""
import socket
import sys
import threading

from pythonosc import dispatcher, osc_server, osc_tcp_server, tcp_client, udp_client


def typed(a):
    try:
        return int(a)
    except ValueError:
        pass
    if "." in a:
        try:
            return float(a)
        except ValueError:
            pass
    return a


def printer(count, done):
    seen = [0]

    def handler(address, *args):
        print(address, *[repr(a) for a in args], flush=True)
        seen[0] += 1
        if seen[0] >= count:
            done.set()

    d = dispatcher.Dispatcher()
    d.set_default_handler(handler)
    return d


def serve(server, done):
    print("READY", server.server_address[1], flush=True)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    done.wait(10)
    server.shutdown()


def serial_board(device, address, args):
    import serial  # pyserial
    from pythonosc import osc_message, osc_message_builder, slip

    builder = osc_message_builder.OscMessageBuilder(address)
    for a in args:
        builder.add_arg(typed(a))
    with serial.Serial(device, 115200, timeout=10) as port:
        port.write(slip.encode(builder.build().dgram))
        port.flush()
        frame = bytearray()
        while True:
            b = port.read(1)
            if not b:
                sys.exit("no answer on the serial line")
            if b[0] != slip.END[0]:
                frame += b
            elif frame:
                msg = osc_message.OscMessage(slip.decode(slip.END + bytes(frame) + slip.END))
                print(msg.address, *[repr(a) for a in msg.params], flush=True)
                return


def build(address, args):
    from pythonosc import osc_message_builder

    builder = osc_message_builder.OscMessageBuilder(address)
    for a in args:
        builder.add_arg(typed(a))
    return builder.build()


def ask_udp(host, port, address, args):
    import time
    from pythonosc import osc_message

    request = build(address, args).dgram
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect((host, port))
    sock.settimeout(0.1)
    until = time.monotonic() + 5
    while time.monotonic() < until:
        try:
            sock.send(request)
            reply = osc_message.OscMessage(sock.recv(65536))
        except (socket.timeout, ConnectionRefusedError):
            continue  # not listening yet
        print(reply.address, *[repr(a) for a in reply.params], flush=True)
        return
    sys.exit("no reply within 5 s")


def main(argv):
    cmd = argv[0]
    if cmd == "send-udp":
        host, port, address, *args = argv[1:]
        udp_client.SimpleUDPClient(host, int(port)).send_message(address, [typed(a) for a in args])
    elif cmd == "send-tcp":
        host, port, mode, address, *args = argv[1:]
        with tcp_client.SimpleTCPClient(host, int(port), mode=mode) as c:
            c.send_message(address, [typed(a) for a in args])
    elif cmd == "serve-udp":
        done = threading.Event()
        server = osc_server.ThreadingOSCUDPServer(("127.0.0.1", 0), printer(int(argv[1]), done))
        serve(server, done)
    elif cmd == "serve-tcp":
        mode, count = argv[1], int(argv[2])
        done = threading.Event()
        server = osc_tcp_server.ThreadingOSCTCPServer(("127.0.0.1", 0), printer(count, done), mode=mode)
        serve(server, done)
    elif cmd == "ask-udp":
        host, port, address, *args = argv[1:]
        ask_udp(host, int(port), address, args)
    elif cmd == "encode":
        address, *args = argv[1:]
        sys.stdout.buffer.write(build(address, args).dgram)
    elif cmd == "serial":
        device, address, *args = argv[1:]
        serial_board(device, address, args)
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv[1:])
