/* Placeholder for regress.gen.h (event_rpcgen.py's output for regress.rpc):
 * regress.c includes it and uses none of it; the RPC cases that do
 * (regress_rpc.c) are not built, as evasio has no evrpc. */
