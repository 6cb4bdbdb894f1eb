#!/bin/bash
# Guest helper of test/vm/daemon-ipvs.test.ts: the director pair's network inside the VM (all names are the VM's own).
#   sw      bridge br0: the LAN 192.168.1.0/24
#   lvs1    eth0 192.168.1.251 (LAN), eth1 172.16.1.251 (crossover to lvs2: VRRP adverts, IPVS sync)
#   lvs2    eth0 192.168.1.252,        eth1 172.16.1.252
#   client  eth0 192.168.1.30
#   real    eth0 192.168.1.10, the VIP 192.168.1.250/32 on lo (LVS-DR real server: arp_ignore/arp_announce)
set -eu
VIP=${VIP:-192.168.1.250}
declare -A LAN=([lvs1]=192.168.1.251 [lvs2]=192.168.1.252 [client]=192.168.1.30 [real]=192.168.1.10)
declare -A ID=([lvs1]=01 [lvs2]=02 [client]=0a [real]=10)
for n in sw lvs1 lvs2 client real; do
  ip netns add "$n"
  ip netns exec "$n" sysctl -q -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
    net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  ip -n "$n" link set lo up
done
ip -n sw link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0
for n in lvs1 lvs2 client real; do
  ip -n sw link add "$n" address "02:00:00:00:f${ID[$n]:1}:${ID[$n]}" type veth peer name eth0 address "02:00:00:00:${ID[$n]}:00" netns "$n"
  ip -n sw link set "$n" master br0
  ip -n sw link set "$n" up
  ip -n "$n" addr add "${LAN[$n]}/24" dev eth0
  ip -n "$n" link set eth0 up
done
ip -n sw link set br0 up
ip -n lvs1 link add eth1 address 02:00:00:00:01:01 type veth peer name eth1 address 02:00:00:00:02:01 netns lvs2
ip -n lvs1 addr add 172.16.1.251/24 dev eth1
ip -n lvs2 addr add 172.16.1.252/24 dev eth1
ip -n lvs1 link set eth1 up
ip -n lvs2 link set eth1 up
# The real server holds the VIP without answering ARP for it (the classic LVS-DR setup).
ip netns exec real sysctl -q -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
  net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2
ip -n real addr add "$VIP/32" dev lo
echo "NET ready"
