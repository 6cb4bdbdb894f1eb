// The VM harness itself: the guest kernel has IPVS (module loaded, ipvsadm programs it) and runs the host's node.
import { beforeAll, describe, expect, it } from 'vitest';
import { buildVm, runScriptInVm, vmSupported, type VmResult } from './vm.js';

const vm = vmSupported();
if (!vm.ok) console.log(`VM tests skipped: ${vm.reason}`);

describe.skipIf(!vm.ok)('IPVS test VM (qemu, Debian kernel)', () => {
  let r: VmResult;

  beforeAll(async () => {
    const t0 = performance.now();
    await buildVm();
    console.log(`vm: build/check ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    // One boot for all the checks: each step prints a tagged line, so a failing step is easy to spot.
    r = await runScriptInVm(`
set -u
echo "uname=$(uname -r)"
echo "ip_vs_proc=$(test -e /proc/net/ip_vs && echo yes || echo no)"
modprobe ip_vs && echo "modprobe=ok"
ipvsadm -A -f 100 -s wlc -p 3600 && ipvsadm -a -f 100 -r 192.168.1.10:0 -g -w 50 && ipvsadm -Ln
echo "node=$(node -e 'console.log(process.version)')"
echo "pwd=$(pwd)"
touch /usr/vrrpd-vm-write-test && echo "overlay_write=ok"
echo "links=$(ls /sys/class/net | tr '\\n' ' ')"
echo "nics=$(ls -d /sys/class/net/*/device 2>/dev/null | wc -l)"
exit 7
`, { timeoutMs: 180_000 });
    console.log(`vm: boot ${r.bootMs === null ? '?' : (r.bootMs / 1000).toFixed(1)} s, whole run ${(r.totalMs / 1000).toFixed(1)} s`);
    if (r.code !== 7) console.log(`guest output:\n${r.output}\nrun.sh:\n${r.log}`);
  }, 900_000);

  it('runs the script to its end and returns its exit code', () => {
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(7);
    expect(r.bootMs).not.toBeNull();
  });

  it('boots a kernel with IPVS and loads ip_vs', () => {
    expect(r.output).toMatch(/^uname=\S+-amd64$/m);
    expect(r.output).toMatch(/^ip_vs_proc=yes$/m);
    expect(r.output).toMatch(/^modprobe=ok$/m);
  });

  it('programs an FWM service with ipvsadm', () => {
    expect(r.output).toMatch(/^FWM\s+100 wlc persistent 3600$/m);
    expect(r.output).toMatch(/^\s+-> 192\.168\.1\.10:0\s+Route\s+50\s+0\s+0\s*$/m);
  });

  it("runs the host's node in the repo, over a writable overlay, with no network device", () => {
    expect(r.output).toContain(`node=${process.version}`);
    expect(r.output).toContain(`pwd=${process.cwd()}`);
    expect(r.output).toMatch(/^overlay_write=ok$/m);
    expect(r.output).toMatch(/^links=lo $/m);
    expect(r.output).toMatch(/^nics=0$/m);
  });
});
