// IPVS generic netlink codec, pure: the kernel ABI (uapi.ts), the objects (types.ts), the request encoder (encode.ts)
// and the reply decoder (decode.ts), per linux/uapi/linux/ip_vs.h, net/netfilter/ipvs/ip_vs_ctl.c and ipvsadm's libipvs.
export * from './uapi.js';
export * from './types.js';
export * from './encode.js';
export * from './decode.js';
