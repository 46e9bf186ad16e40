// The address a request came from, for per-address limits (the portal's API, a node's probe).
// Only a header the platform in front sets, and never passes on from the client, may say it:
// on Cloudflare the edge writes CF-Connecting-IP on every request from outside, replacing any
// the client sent. workerd on its own (Miniflare, `wrangler dev`, the local stack) passes a
// client's CF-Connecting-IP through untouched and sets it from the socket only when absent, and
// lets a client replace `request.cf` (the MF-CF-Blob header), so nothing in a request tells the
// two apart. Hence a var: CLIENT_ADDRESS_HEADER names the header to trust ("cf-connecting-ip"
// in wrangler.toml); unset, no header is trusted and every client counts as one address.
export interface ClientAddressEnv {
  /** the request header the platform sets to the client's address; unset or "": none is trusted */
  CLIENT_ADDRESS_HEADER?: string;
}

const IPV4 = /^(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const IPV6 = /^(?=.*:)[0-9a-f:.]{2,45}$/i;

/** The client's address from the trusted header, or undefined when none is trusted or it is not an address. */
export function clientAddress(headers: Headers, env: ClientAddressEnv): string | undefined {
  const name = env.CLIENT_ADDRESS_HEADER?.trim();
  if (!name) return undefined;
  const value = headers.get(name)?.trim();
  return value && (IPV4.test(value) || IPV6.test(value)) ? value : undefined;
}
