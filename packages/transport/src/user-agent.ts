/** `user-agent` of every request (signed for PutMedia, as the KVS SDKs do): `name node/<version> <platform>`. */
export const USER_AGENT = `kvs-streams-transport node/${process.versions.node} ${process.platform}/${process.arch}`
