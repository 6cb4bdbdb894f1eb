// IPVS features of issue 9 on a real kernel (test VM): scheduler flags, one-packet scheduling, the SIP persistence
// engine and the connection timeouts, read back by our client and by ipvsadm, our bytes equal to ipvsadm's; then
// `vrrpd run` with inhibitOnFailure keeps a failing real server at weight 0 while an established connection lives on.
// The whole scenario runs in one guest script (test/vm/guest/ipvs-features.mjs).
import { join } from 'node:path';
import { REPO, vmSupported } from './vm.js';
import { describeGuestChecks } from './guest-suite.js';

const vm = vmSupported();
if (!vm.ok) console.log(`VM tests skipped: ${vm.reason}`);

const GUEST = join(REPO, 'test/vm/guest/ipvs-features.mjs');

const CHECKS = {
  'flags-ops-pe-applied': 'sh-fallback/sh-port + ops, persistence engine sip, mh-port, flag-3 + ops on a fwmark: applied and read back',
  'flags-ops-pe-ipvsadm': 'ipvsadm -Ln shows the same flags, ops and "pe sip"',
  'flags-ops-pe-from-ipvsadm': 'services ipvsadm creates with -b, -o and --pe read back with the same bits',
  'bytes-equal-ipvsadm': 'our NEW_SERVICE (flags, pe) and SET_CONFIG bytes equal ipvsadm\'s (strace)',
  timeouts: 'connection timeouts set and read back (GET_CONFIG and ipvsadm -L --timeout); a partial set keeps the others',
  'inhibit-net': 'the guest builds the namespaces and the echo server',
  'inhibit-master': 'vrrpd run: MASTER with the real server at weight 10',
  'daemon-timeouts': 'the daemon applies ipvs.timeouts (ipvsadm -L --timeout)',
  'inhibit-conn-established': 'a client connection through the VIP is established and counted on the real server',
  'inhibit-weight-0': 'inhibitOnFailure: the failing server stays in the table at weight 0 (ipvsadm -Ln, vrrpd status)',
  'inhibit-conn-survives': 'the established connection still echoes through the VIP',
  'inhibit-recovers': 'the server passing again is back at its weight',
  'control-removed-cuts': 'control: without inhibitOnFailure (reload) the failing server is removed and the connection gets no answer',
} as const;

describeGuestChecks('IPVS features of issue 9 on a real kernel (test VM)', GUEST, CHECKS, { skip: !vm.ok, timeoutMs: 420_000 });
