// linux/uapi/linux/ip_vs.h (and the socket/protocol numbers it relies on) as constants: the IPVS generic netlink ABI.
// linux/ip_vs.h: IPVS_GENL_NAME, IPVS_GENL_VERSION
export const IPVS_GENL_NAME = 'IPVS';
export const IPVS_GENL_VERSION = 1;

// linux/ip_vs.h: enum IPVS_CMD_*
export const IPVS_CMD_NEW_SERVICE = 1;
export const IPVS_CMD_SET_SERVICE = 2;
export const IPVS_CMD_DEL_SERVICE = 3;
export const IPVS_CMD_GET_SERVICE = 4;
export const IPVS_CMD_NEW_DEST = 5;
export const IPVS_CMD_SET_DEST = 6;
export const IPVS_CMD_DEL_DEST = 7;
export const IPVS_CMD_GET_DEST = 8;
export const IPVS_CMD_NEW_DAEMON = 9;
export const IPVS_CMD_DEL_DAEMON = 10;
export const IPVS_CMD_GET_DAEMON = 11;
export const IPVS_CMD_SET_CONFIG = 12;
export const IPVS_CMD_GET_CONFIG = 13;
export const IPVS_CMD_SET_INFO = 14;
export const IPVS_CMD_GET_INFO = 15;
export const IPVS_CMD_ZERO = 16;
/** Deletes every service of the namespace, foreign ones too: vrrpd never sends it. */
export const IPVS_CMD_FLUSH = 17;

const CMD_NAMES = ['IPVS_CMD_UNSPEC', 'IPVS_CMD_NEW_SERVICE', 'IPVS_CMD_SET_SERVICE', 'IPVS_CMD_DEL_SERVICE',
  'IPVS_CMD_GET_SERVICE', 'IPVS_CMD_NEW_DEST', 'IPVS_CMD_SET_DEST', 'IPVS_CMD_DEL_DEST', 'IPVS_CMD_GET_DEST',
  'IPVS_CMD_NEW_DAEMON', 'IPVS_CMD_DEL_DAEMON', 'IPVS_CMD_GET_DAEMON', 'IPVS_CMD_SET_CONFIG', 'IPVS_CMD_GET_CONFIG',
  'IPVS_CMD_SET_INFO', 'IPVS_CMD_GET_INFO', 'IPVS_CMD_ZERO', 'IPVS_CMD_FLUSH'];
export const ipvsCmdName = (cmd: number): string => CMD_NAMES[cmd] ?? `IPVS_CMD ${cmd}`;

// linux/ip_vs.h: IPVS_CMD_ATTR_* (first level)
export const IPVS_CMD_ATTR_SERVICE = 1;
export const IPVS_CMD_ATTR_DEST = 2;
export const IPVS_CMD_ATTR_DAEMON = 3;
export const IPVS_CMD_ATTR_TIMEOUT_TCP = 4;
export const IPVS_CMD_ATTR_TIMEOUT_TCP_FIN = 5;
export const IPVS_CMD_ATTR_TIMEOUT_UDP = 6;
// linux/ip_vs.h: IPVS_SVC_ATTR_* (inside IPVS_CMD_ATTR_SERVICE)
export const IPVS_SVC_ATTR_AF = 1;
export const IPVS_SVC_ATTR_PROTOCOL = 2;
export const IPVS_SVC_ATTR_ADDR = 3;
export const IPVS_SVC_ATTR_PORT = 4;
export const IPVS_SVC_ATTR_FWMARK = 5;
export const IPVS_SVC_ATTR_SCHED_NAME = 6;
export const IPVS_SVC_ATTR_FLAGS = 7;
export const IPVS_SVC_ATTR_TIMEOUT = 8;
export const IPVS_SVC_ATTR_NETMASK = 9;
export const IPVS_SVC_ATTR_STATS = 10;
export const IPVS_SVC_ATTR_PE_NAME = 11;
export const IPVS_SVC_ATTR_STATS64 = 12;
// linux/ip_vs.h: IPVS_DEST_ATTR_* (inside IPVS_CMD_ATTR_DEST)
export const IPVS_DEST_ATTR_ADDR = 1;
export const IPVS_DEST_ATTR_PORT = 2;
export const IPVS_DEST_ATTR_FWD_METHOD = 3;
export const IPVS_DEST_ATTR_WEIGHT = 4;
export const IPVS_DEST_ATTR_U_THRESH = 5;
export const IPVS_DEST_ATTR_L_THRESH = 6;
export const IPVS_DEST_ATTR_ACTIVE_CONNS = 7;
export const IPVS_DEST_ATTR_INACT_CONNS = 8;
export const IPVS_DEST_ATTR_PERSIST_CONNS = 9;
export const IPVS_DEST_ATTR_STATS = 10;
export const IPVS_DEST_ATTR_ADDR_FAMILY = 11;
export const IPVS_DEST_ATTR_STATS64 = 12;
export const IPVS_DEST_ATTR_TUN_TYPE = 13;
export const IPVS_DEST_ATTR_TUN_PORT = 14;
export const IPVS_DEST_ATTR_TUN_FLAGS = 15;
// linux/ip_vs.h: IPVS_DAEMON_ATTR_* (inside IPVS_CMD_ATTR_DAEMON)
export const IPVS_DAEMON_ATTR_STATE = 1;
export const IPVS_DAEMON_ATTR_MCAST_IFN = 2;
export const IPVS_DAEMON_ATTR_SYNC_ID = 3;
export const IPVS_DAEMON_ATTR_SYNC_MAXLEN = 4;
export const IPVS_DAEMON_ATTR_MCAST_GROUP = 5;
export const IPVS_DAEMON_ATTR_MCAST_GROUP6 = 6;
export const IPVS_DAEMON_ATTR_MCAST_PORT = 7;
export const IPVS_DAEMON_ATTR_MCAST_TTL = 8;
// linux/ip_vs.h: IPVS_STATS_ATTR_* (inside *_ATTR_STATS and *_ATTR_STATS64)
// linux/ip_vs.h: IPVS_INFO_ATTR_* (top level of the IPVS_CMD_SET_INFO reply)
export const IPVS_INFO_ATTR_VERSION = 1;
export const IPVS_INFO_ATTR_CONN_TAB_SIZE = 2;

// linux/ip_vs.h: IP_VS_SVC_F_* virtual service flags
export const IP_VS_SVC_F_PERSISTENT = 0x0001;
export const IP_VS_SVC_F_HASHED = 0x0002; // set by the kernel, never by us
export const IP_VS_SVC_F_ONEPACKET = 0x0004;
export const IP_VS_SVC_F_SCHED1 = 0x0008; // sh-fallback, mh-fallback
export const IP_VS_SVC_F_SCHED2 = 0x0010; // sh-port, mh-port
export const IP_VS_SVC_F_SCHED3 = 0x0020;
// linux/ip_vs.h: IP_VS_CONN_F_* forwarding methods (IP_VS_CONN_F_FWD_MASK)
export const IP_VS_CONN_F_FWD_MASK = 0x0007;
export const IP_VS_CONN_F_MASQ = 0x0000;
export const IP_VS_CONN_F_LOCALNODE = 0x0001;
export const IP_VS_CONN_F_TUNNEL = 0x0002;
export const IP_VS_CONN_F_DROUTE = 0x0003;
export const IP_VS_CONN_F_BYPASS = 0x0004;
// linux/ip_vs.h: IP_VS_STATE_* sync daemon states
export const IP_VS_STATE_NONE = 0;
export const IP_VS_STATE_MASTER = 1;
export const IP_VS_STATE_BACKUP = 2;
// linux/ip_vs.h: IP_VS_SCHEDNAME_MAXLEN, IP_VS_PENAME_MAXLEN, IP_VS_IFNAME_MAXLEN (with the NUL)
export const IP_VS_SCHEDNAME_MAXLEN = 16;
export const IP_VS_PENAME_MAXLEN = 16;
export const IP_VS_IFNAME_MAXLEN = 16;
// linux/socket.h, linux/in.h
export const AF_INET = 2;
export const AF_INET6 = 10;
