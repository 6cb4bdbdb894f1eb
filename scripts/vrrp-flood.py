#!/usr/bin/env python3
# Junk on a VRRP segment, for the lab flood test and bench/flood.ts: raw Ethernet frames to 224.0.0.18 from one AF_PACKET socket.
# Usage: vrrp-flood.py IFNAME SRC_IP OUR_VRID RATE_PPS SECONDS [SEED]
# Mix: random bytes as VRRP, bad checksums for our VRID, valid adverts for every other VRID, forged
# priority-255 adverts for our VRID with TTL 64 (RFC 5798 §7.1 drops them) or a bad checksum, the
# wrong version for our VRID, truncated packets. A valid forgery (TTL 255, good checksum, our VRID)
# is never sent: VRRPv3 has no authentication, and no router could tell it from a real master.
# Prints one JSON line with what it sent. Bounded: stops after SECONDS.
import json, random, socket, struct, sys, time

def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

def vrrp3(vrid, prio, addrs, src, dst, good=True, version=3):
    body = struct.pack('!BBBBH', (version << 4) | 1, vrid, prio, len(addrs), 1) + b''.join(socket.inet_aton(a) for a in addrs)
    msg = body[:6] + b'\0\0' + body[6:]
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, 112, len(msg))
    c = csum(pseudo + msg)
    if not good: c ^= 0x5a5a
    return msg[:6] + struct.pack('!H', c) + msg[8:]

def ip4(payload, src, dst, ttl=255, proto=112):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0xc0, 20 + len(payload), random.getrandbits(16), 0, ttl, proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack('!H', csum(h)) + h[12:] + payload

def main():
    ifname, src, vrid, rate, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
    random.seed(int(sys.argv[6]) if len(sys.argv) > 6 else 1)
    dst = '224.0.0.18'
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    mac = s.getsockname()[4]
    eth = b'\x01\x00\x5e\x00\x00\x12' + mac + b'\x08\x00'
    kinds = {}
    pool = []
    for i in range(4096):
        k = i % 7
        if k == 0:
            name, pkt = 'random', ip4(bytes(random.getrandbits(8) for _ in range(random.randint(0, 60))), src, dst)
        elif k == 1:
            name, pkt = 'bad-checksum', ip4(vrrp3(vrid, random.randint(1, 254), ['192.168.1.250'], src, dst, good=False), src, dst)
        elif k == 2:
            other = random.choice([v for v in range(1, 256) if v != vrid])
            name, pkt = 'other-vrid', ip4(vrrp3(other, random.randint(1, 255), ['10.0.0.%d' % random.randint(1, 254)], src, dst), src, dst)
        elif k == 3:
            name, pkt = 'forged-ttl64', ip4(vrrp3(vrid, 255, ['192.168.1.250'], src, dst), src, dst, ttl=64)
        elif k == 4:
            name, pkt = 'forged-bad-checksum', ip4(vrrp3(vrid, 255, ['192.168.1.250'], src, dst, good=False), src, dst)
        elif k == 5:
            name, pkt = 'wrong-version', ip4(vrrp3(vrid, 254, ['192.168.1.250'], src, dst, version=2), src, dst)
        else:
            full = vrrp3(vrid, 254, ['192.168.1.250', '192.168.1.100'], src, dst)
            name, pkt = 'truncated', ip4(full[:random.randint(0, len(full) - 1)], src, dst)
        pool.append((name, eth + pkt))
    sent = 0
    errors = 0
    start = time.monotonic()
    end = start + seconds
    batch = 100
    while True:
        now = time.monotonic()
        if now >= end: break
        due = int((now - start) * rate)
        if sent >= due:
            time.sleep(min(0.001, end - now))
            continue
        for _ in range(min(batch, due - sent)):
            name, frame = pool[sent % len(pool)]
            try:
                s.send(frame)
                kinds[name] = kinds.get(name, 0) + 1
            except OSError:
                errors += 1
            sent += 1
    took = time.monotonic() - start
    print(json.dumps({'sent': sent, 'errors': errors, 'seconds': round(took, 3), 'pps': round(sent / took), 'kinds': kinds}), flush=True)

main()
