// Announce mode on a real IPVS kernel and real BIRD (test VM): three active-active directors (BIRD + vrrpd each) behind a
// BIRD router with ECMP and BFD; long-lived TCP flows through a yield, a director whose checks fail, a BIRD restart, a
// director's death and a stop. The scenario runs in one guest script (test/vm/guest/announce.mjs; see its header).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO, vmSupported } from './vm.js';
import { describeGuestChecks } from './guest-suite.js';

const vm = vmSupported();
const bird = spawnSync('sh', ['-c', 'command -v bird'], { stdio: 'ignore' }).status === 0;
if (!vm.ok) console.log(`VM tests skipped: ${vm.reason}`);
else if (!bird) console.log('announce VM test skipped: no bird on the host (apt-get install bird2; .ci/run installs it)');

const GUEST = join(REPO, 'test/vm/guest/announce.mjs');

const CHECKS = {
  net: 'the guest builds the router, client, three directors and two real servers, and starts BIRD everywhere',
  'all-announce': 'every director is fit, puts the VIP on lb0 (created as a dummy) and BIRD exports it to the router',
  'router-3-nexthops': 'the router holds three ECMP next hops for the VIP',
  'flows-spread': 'the client\'s long-lived flows are spread over the three directors',
  'yield-drain-no-reset': '`vrrpd yield web` withdraws the route first, drains, and no flow is reset',
  'resume-announces': '`vrrpd resume web` announces again: three next hops, no flow lost',
  'real-servers-fail-withdraw': 'a director whose checks fail on every real server withdraws (and says why)',
  'real-servers-recover-announce': 'it announces again once they pass, after the up delay and hold-down; no flow lost',
  'bird-restart': 'BIRD killed and restarted under a running vrrpd: unknown meanwhile, then exported again',
  'director-dies-bfd': 'a director SIGKILLed with its links down is withdrawn by BFD within seconds; no established flow is lost',
  'stop-withdraws': 'SIGTERM withdraws the route before IPVS and the VIP are removed; no flow lost',
} as const;

describeGuestChecks('announce mode: active-active directors by BGP through BIRD, in the test VM', GUEST, CHECKS, { skip: !vm.ok || !bird, timeoutMs: 420_000 });
