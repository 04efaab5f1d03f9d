#!/usr/bin/python3
"""Test helper for the NAT tests. serve tcp|udp PORT [BIND]: answer every connection/datagram with
"peer=ADDRESS" of the client (prints "ready" first). ask tcp|udp HOST PORT: print the answer; exit 1
if none comes within 3 s."""
import socket, sys

def family(host):
    return socket.AF_INET6 if ':' in host else socket.AF_INET

def serve(proto, port, bind):
    fam = family(bind)
    s = socket.socket(fam, socket.SOCK_STREAM if proto == 'tcp' else socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((bind, port))
    if proto == 'tcp':
        s.listen(16)
    print('ready', flush=True)
    while True:
        if proto == 'tcp':
            c, a = s.accept()
            c.sendall(('peer=%s\n' % a[0]).encode())
            c.close()
        else:
            d, a = s.recvfrom(2048)
            s.sendto(('peer=%s\n' % a[0]).encode(), a)

def ask(proto, host, port):
    s = socket.socket(family(host), socket.SOCK_STREAM if proto == 'tcp' else socket.SOCK_DGRAM)
    s.settimeout(3)
    try:
        if proto == 'tcp':
            s.connect((host, port))
            data = s.recv(2048)
        else:
            s.sendto(b'hello', (host, port))
            data = s.recv(2048)
    except OSError as e:
        print('error=%s' % e)
        sys.exit(1)
    sys.stdout.write(data.decode())

if sys.argv[1] == 'serve':
    serve(sys.argv[2], int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else '0.0.0.0')
else:
    ask(sys.argv[2], sys.argv[3], int(sys.argv[4]))
