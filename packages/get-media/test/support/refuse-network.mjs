// `node --import` this file: module resolution then refuses @kvs-streams/signer, @kvs-streams/transport and
// undici, so a process that gets past its imports has loaded none of them.
import { register } from 'node:module'

const hooks = `
const refused = /^(@kvs-streams\\/(signer|transport)|undici)(\\/|$)/
export async function resolve(specifier, context, nextResolve) {
  if (refused.test(specifier)) {
    throw Object.assign(new Error('refused to load ' + specifier), { code: 'ERR_REFUSED_BY_TEST' })
  }
  return nextResolve(specifier, context)
}
`
register(`data:text/javascript,${encodeURIComponent(hooks)}`)
