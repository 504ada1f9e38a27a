// Placeholder: the faiss-node build against Debian's libfaiss (filled by the faiss work).
export async function buildFaiss() {}
