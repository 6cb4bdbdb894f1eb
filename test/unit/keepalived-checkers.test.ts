// keepalived.conf checker blocks -> vrrpd checks: every checker type, several per real server, alpha, warmup, FILE_CHECK's
// track_file, SMTP host blocks; bad values refused with file:line.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatIssue, loadAnyConfig, type AnyLoadResult, type LoadResult } from '../../src/config/load.js';
import { configSchema, type Config } from '../../src/config/schema.js';

const TMP = mkdtempSync(join(tmpdir(), 'vrrpd-kachk-'));
let n = 0;
function conf(text: string): string {
  const dir = join(TMP, String(++n));
  mkdirSync(dir);
  writeFileSync(join(dir, 'keepalived.conf'), text);
  return join(dir, 'keepalived.conf');
}
const load = (text: string) => loadAnyConfig(conf(text), { format: 'keepalived' });
const inst = 'vrrp_instance VI_1 {\n  interface eth1\n  virtual_router_id 10\n}\n';
const ok = (r: LoadResult): Config => {
  if (!r.ok) throw new Error(r.errors.map(formatIssue).join('\n'));
  return r.config;
};
const msgs = (r: AnyLoadResult) => (r.ok ? r.warnings : [...r.errors, ...(r.warnings ?? [])]).map((i) => `${i.line}:${i.col} ${i.path}: ${i.message}`);
const errors = (r: AnyLoadResult) => (r.ok ? [] : r.errors.map((i) => `${i.line} ${i.message}`));

describe('keepalived checkers -> checks', () => {
  it('every checker type in one real_server: all kept, in order, with keepalived\'s defaults and inherited timing', async () => {
    const r = await load(`${inst}track_file drain_web1 {
  file /run/drain/web1
  weight 5
}
virtual_server 10.0.0.1 53 {
  protocol UDP
  delay_loop 20
  alpha
  warmup 3
  retry 2
  real_server 10.0.1.1 53 {
    delay_loop 10
    DNS_CHECK {
      type a
      name www.example.com
    }
    UDP_CHECK {
      connect_port 5353
      payload 01 02 ab
      require_reply 01 Xx
      min_reply_length 2
      max_reply_length 64
    }
    PING_CHECK {
      connect_ip 10.0.2.1
      bindto 10.0.0.9
      alpha off
    }
    SMTP_CHECK {
      connect_port 25
      helo_name lb.example.com
      warmup 0
    }
    FILE_CHECK {
      track_file drain_web1
    }
    FILE_CHECK {
      track_file drain_web1
      weight 0 reverse
    }
    HTTP_GET {
      url {
        path /health
        regex "status: (OK|ready)"
        regex_options caseless multiline
        regex_max_offset 100
      }
      url {
        path /error
        regex "fail"
        regex_no_match
      }
    }
    MISC_CHECK {
      misc_path /bin/true
      retry 0
    }
  }
}
`);
    const c = ok(r);
    expect(msgs(r)).toEqual([]);
    const vs = c.virtualServers['vs-10.0.0.1-53-udp']!;
    expect(vs).toMatchObject({ alpha: true, delayLoop: 20_000 });
    const [dns, udp, ping, smtp, file1, file2, http, misc] = vs.realServers[0]!.checks;
    // retry 2 from the virtual server (MISC_CHECK says retry 0: it would inherit it too, refused); delay_loop 10 from the
    // real server; warmup 3 from the virtual server.
    expect(dns).toEqual({ type: 'dns', queryType: 'A', name: 'www.example.com', retries: 2, connectTimeout: 5000, delayLoop: 10_000, warmup: 3000 });
    expect(udp).toEqual({ type: 'udp', port: 5353, payload: '01 02 ab', requireReply: true, replyData: '01 Xx', minReplyLength: 2, maxReplyLength: 64,
      retries: 2, connectTimeout: 5000, delayBeforeRetry: 1000, delayLoop: 10_000, warmup: 3000 });
    expect(ping).toMatchObject({ type: 'ping', address: '10.0.2.1', sourceAddress: '10.0.0.9', alpha: false });
    expect(smtp).toMatchObject({ type: 'smtp', port: 25, heloName: 'lb.example.com', warmup: 0 });
    expect(file1).toEqual({ type: 'file', file: '/run/drain/web1', weight: 5, reverse: false });
    expect(file2).toEqual({ type: 'file', file: '/run/drain/web1', weight: 0, reverse: true });
    expect(http).toMatchObject({ type: 'http', retries: 2, urls: [
      { path: '/health', regex: 'status: (OK|ready)', regexOptions: ['caseless', 'multiline'], regexMaxOffset: 100, regexNoMatch: false },
      { path: '/error', regex: 'fail', regexNoMatch: true }] });
    expect(misc).toMatchObject({ type: 'misc', script: '/bin/true', timeout: 10_000 }); // keepalived: the delay_loop
    // The SMTP checker without connect_port uses the real server's port; DNS likewise.
    expect(configSchema.safeParse(c).success).toBe(true);
  });

  it('SMTP_CHECK host blocks (deprecated): one checker per host, the first taking the checker\'s place', async () => {
    const c = ok(await load(`${inst}virtual_server 10.0.0.1 25 {
  real_server 10.0.1.1 25 {
    SMTP_CHECK {
      helo_name me
      host {
        connect_ip 10.0.1.1
        connect_port 25
      }
      host {
        connect_ip 10.0.1.1
        connect_port 587
      }
    }
  }
}
`));
    expect(c.virtualServers['vs-10.0.0.1-25']!.realServers[0]!.checks.map((k) => k.type === 'smtp' && [k.address, k.port, k.heloName]))
      .toEqual([['10.0.1.1', 25, 'me'], ['10.0.1.1', 587, 'me']]);
  });

  it('refused with file:line: bad values, BFD_CHECK, unknown track_file, bind_if, misc_dynamic, PCRE-only options, status ranges', async () => {
    const r = await load(`${inst}virtual_server 10.0.0.1 80 {
  real_server 10.0.1.1 80 {
    DNS_CHECK {
      type PTR
    }
    UDP_CHECK {
      min_reply_length 10
      max_reply_length 5
    }
    FILE_CHECK {
      track_file nowhere
    }
    BFD_CHECK {
      name b
    }
    TCP_CHECK {
      bind_if eth0
    }
    MISC_CHECK {
      misc_path /bin/true
      misc_dynamic
    }
    HTTP_GET {
      url {
        path /
        regex_options extended
        status_code 200-299
      }
    }
    UDP_CHECK {
      payload zz
    }
  }
}
`);
    expect(r.ok).toBe(false);
    expect(errors(r)).toEqual(expect.arrayContaining([
      '8 "PTR" is not one of A, NS, CNAME, SOA, MX, TXT, AAAA, RRSIG, DNSKEY',
      '15 track_file "nowhere" is not defined before this FILE_CHECK (keepalived looks it up here)',
      '17 not supported: BFD is not supported: the real server would go unchecked by it',
      '21 not supported: a vrrpd check cannot be bound to an interface; the kernel\'s route applies (use bindto for the source address)',
      '25 not supported: the script\'s exit code setting the weight (misc_dynamic); use a FILE_CHECK to drain a server by weight',
      '30 not supported: regex option "extended" (vrrpd matches with JavaScript regular expressions: caseless, multiline, dotall, utf only)',
      '31 not supported: several status codes or a range; vrrpd accepts one status code per URL (or the default 200-299)',
    ]));
    // Schema-level refusals point at the keepalived line too.
    const bad = await load(`${inst}virtual_server 10.0.0.1 80 {
  real_server 10.0.1.1 80 {
    UDP_CHECK {
      min_reply_length 10
      max_reply_length 5
    }
    UDP_CHECK {
      payload zz
    }
    HTTP_GET {
      url {
        path /
        regex "("
      }
    }
  }
}
`);
    expect(bad.ok).toBe(false);
    const lines = bad.ok ? [] : bad.errors.map((e) => [e.line, e.path]);
    expect(lines).toEqual(expect.arrayContaining([
      [8, 'virtualServers.vs-10.0.0.1-80.realServers.0.checks.0.minReplyLength'],
      [12, 'virtualServers.vs-10.0.0.1-80.realServers.0.checks.1.payload'],
      [17, 'virtualServers.vs-10.0.0.1-80.realServers.0.checks.2.urls.0.regex'],
    ]));
  });
});

describe('schema: checks', () => {
  const parse = (rs: Record<string, unknown>) => configSchema.safeParse({ instances: {}, virtualServers: { v: { address: '10.0.0.1', port: 80, realServers: [{ address: '10.0.1.1', ...rs }] } } });
  it('check is shorthand for a one-element checks; both at once are refused', () => {
    const one = parse({ check: { type: 'tcp' } });
    expect(one.success && one.data.virtualServers.v!.realServers[0]!.checks).toMatchObject([{ type: 'tcp' }]);
    expect(parse({ check: { type: 'tcp' }, checks: [{ type: 'ping' }] }).success).toBe(false);
    const none = parse({});
    expect(none.success && none.data.virtualServers.v!.realServers[0]!.checks).toEqual([]);
  });
  it('refuses checks that could never pass or do not parse', () => {
    expect(parse({ checks: [{ type: 'udp', minReplyLength: 9, maxReplyLength: 2 }] }).success).toBe(false);
    expect(parse({ checks: [{ type: 'udp', replyData: '01' }] }).success).toBe(false); // needs requireReply
    expect(parse({ checks: [{ type: 'udp', payload: 'xyz' }] }).success).toBe(false);
    expect(parse({ checks: [{ type: 'dns', queryType: 'PTR' }] }).success).toBe(false);
    expect(parse({ checks: [{ type: 'dns', name: 'a..b' }] }).success).toBe(false);
    expect(parse({ checks: [{ type: 'file', file: 'relative/path' }] }).success).toBe(false);
    expect(parse({ checks: [{ type: 'http', urls: [{ path: '/', regex: '[' }] }] }).success).toBe(false);
    expect(parse({ checks: [{ type: 'http', urls: [{ path: '/', regexNoMatch: true }] }] }).success).toBe(false);
    expect(parse({ checks: [{ type: 'ping', port: 1 }] }).success).toBe(false);
    expect(parse({ checks: [{ type: 'smtp', heloName: 'two words' }] }).success).toBe(false);
    expect(parse({ checks: [{ type: 'dns' }, { type: 'udp', payload: '0a 0b' }, { type: 'ping', warmup: '2s' }, { type: 'file', file: '/x' }] }).success).toBe(true);
  });
});
