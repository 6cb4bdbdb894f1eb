// The seeds' other directors on a real kernel (test VM, issue 10): their ipvsadm rule sets and ldirectord.cf files run by
// vrrpd as a standalone director give the IPVS table ipvsadm builds from the same rules; the ldirectord negotiate
// checks against real web servers in namespaces: a page without the receive string sets the server to weight 0
// (quiescent=yes) or takes it out. One boot; the whole scenario runs in test/vm/guest/ldirectord.mjs.
import { join } from 'node:path';
import { REPO, vmSupported } from './vm.js';
import { describeGuestChecks } from './guest-suite.js';

const vm = vmSupported();
if (!vm.ok) console.log(`VM tests skipped: ${vm.reason}`);

const GUEST = join(REPO, 'test/vm/guest/ldirectord.mjs');

const CHECKS = {
  'rules-net': 'ipvsadm builds the seeds\' rule sets in a namespace (seed 000, 002, 003 and an init script run as they are, an ipvsadm-save dump restored)',
  'rules-table': 'vrrpd, a standalone director with those rule sets (virtualServersFrom), programs the same table (ipvsadm -Ln)',
  'rules-standalone': 'no VRRP instance, no sync daemon (status and the kernel), and vrrpd says it is a standalone director',
  'rules-stop': 'the standalone vrrpd removes its services when it stops',
  'ld-net': 'the LAN, two web servers in namespaces, ldirectord\'s reference tables',
  'ld002-table': 'seed 002\'s ldirectord.cf: vrrpd programs the table ldirectord does once both checks pass',
  'ld004-table': 'seed 004\'s ldirectord.cf (per-server request/receive, fallback, autoreload): the same table as ldirectord',
  'ld002-standalone': 'no VRRP instance, no sync daemon; an http check per real server, passing',
  'ld002-receive-missing-weight-0': 'quiescent=yes: a page without the receive string sets the server to weight 0, still in the table',
  'ld002-receive-back': 'the string back: weight 1 again, the whole table ldirectord\'s',
  'ld004-receive-missing-removed': 'quiescent=no: a page without the receive string takes the server out',
  'ld-stop': 'both standalone directors remove their services when they stop',
} as const;

describeGuestChecks('ipvsadm rule sets and ldirectord.cf as a standalone director on a real kernel (test VM)', GUEST, CHECKS, { skip: !vm.ok, timeoutMs: 600_000 });
