// The LVS-NAT director pair of issue 9 on a real kernel (test VM): a two-member sync group (public VIP on the LAN,
// the real servers' gateway VIP inside), IPVS NAT services and the sync daemon; a client's requests answered by the
// real server behind NAT before and after a cable cut on lvs1 (an established connection survives through lvs2);
// a virtual_server_group's address range (YAML form) creates every service; quorumDown/quorumUp run on quorum
// loss/gain with a failed server kept at weight 0 (inhibitOnFailure). One guest script: test/vm/guest/lvs-nat.mjs.
import { join } from 'node:path';
import { REPO, vmSupported } from './vm.js';
import { describeGuestChecks } from './guest-suite.js';

const vm = vmSupported();
if (!vm.ok) console.log(`VM tests skipped: ${vm.reason}`);

const GUEST = join(REPO, 'test/vm/guest/lvs-nat.mjs');

const CHECKS = {
  net: 'the guest builds the namespaces (LAN, inside network, crossover) and the real server\'s echo servers',
  election: 'lvs1 MASTER of the group (both members) with both VIPs and every NAT service; lvs2 BACKUP with none (vrrpd status --json, ip addr, ipvsadm)',
  'vsg-services': 'a virtual_server_group range (192.168.1.240-242 port 8080, YAML form) is one service per address, each with the shared real server',
  'nat-request': 'a client request through the public VIP is answered by the real server behind NAT (the real server sees the client, its gateway is lvs1)',
  'conn-synced-lvs2': 'the sync daemon copies the established NAT connection to lvs2',
  'quorum-down': 'a real server failing its check drops the live weight below quorum: quorumDown runs (on both directors), the server stays at weight 0 (inhibitOnFailure)',
  'quorum-up': 'the server passing again: quorumUp runs, weight back to 1',
  'failover-both-vips': "lvs1's LAN cable cut: both VIPs and every service move to lvs2 (vi_gw follows through the group), group notify on lvs2",
  'conn-survives-failover': 'the established connection keeps answering through lvs2 (synced entry)',
  'nat-request-after-failover': 'a new connection is answered by the real server through lvs2',
  'stop-both': 'both daemons exit 0 on SIGTERM and leave no service',
} as const;

describeGuestChecks('LVS-NAT pair with a sync group on a real kernel (test VM)', GUEST, CHECKS, { skip: !vm.ok, timeoutMs: 420_000 });
