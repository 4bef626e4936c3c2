/**
 * LiveKit's key ratchet, as its SDKs compute it: HKDF-SHA-256 over the current key with the ratchet salt and 128 zero
 * bytes of info, 256 bits out. Both bridges use it, so a ratcheted key is the same in the browser and in Node.
 *
 * @internal
 */
export async function ratchetKeyBytes(key: Uint8Array, salt: string): Promise<Uint8Array> {
  const raw = new ArrayBuffer(key.length);
  new Uint8Array(raw).set(key);
  const material = await crypto.subtle.importKey("raw", raw, "HKDF", false, ["deriveBits"]);
  const params = {
    name: "HKDF",
    salt: new TextEncoder().encode(salt),
    hash: "SHA-256",
    info: new ArrayBuffer(128),
  };
  return new Uint8Array(await crypto.subtle.deriveBits(params, material, 256));
}
