// The auth world: decide once, on CONNECT, who a client is. The grant binds
// the client to a tenant with permissions the broker then enforces
// natively. Auth plugins import `host` only: do not import
// `@switchyard/plugin/kv` here (the broker would refuse the component).

import { reported } from "./host.js";

export { log, config, clock } from "./host.js";

/** Throw it from `authenticate` to refuse a client; the reason is logged by the broker. */
export class Denied extends Error {}

/** Permissions: an empty `allow` allows every subject (minus `deny`); deny wins. */
export const Permissions = {
  all: () => ({ allow: [], deny: [] }),
  only: (subjects) => ({ allow: Array.from(subjects), deny: [] }),
};

/** Binds `user` to `tenant` with every subject allowed and no expiry. */
export function grant(tenant, user) {
  return {
    tenant,
    user,
    publish: Permissions.all(),
    subscribe: Permissions.all(),
    expiresAtMs: undefined,
  };
}

/**
 * The component's `authenticator` export for `plugin`, an object with
 * `authenticate(req)` returning a grant (see `grant`) or throwing `Denied`.
 * `expiresAtMs` may be a Number or a BigInt. Export it under that name:
 *
 *     export const authenticator = exportAuth(myAuth);
 */
export function exportAuth(plugin) {
  return {
    authenticate(request) {
      let g;
      try {
        g = plugin.authenticate(request);
      } catch (e) {
        // The `err` case of the result: a thrown string is its payload.
        if (e instanceof Denied) throw e.message;
        return reported(() => {
          throw e;
        });
      }
      return {
        ...g,
        expiresAtMs: g.expiresAtMs == null ? undefined : BigInt(g.expiresAtMs),
      };
    },
  };
}
