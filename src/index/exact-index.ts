/** Exact lookup for digest signals (MD5, SHA-256): value -> the entries holding it. */
export interface ExactMatch {
  id: number;
  bankId: number;
}

export class ExactIndex {
  // Most values are in one bank: a single packed number avoids an array per value.
  private readonly single = new Map<string, ExactMatch>();
  private readonly multiple = new Map<string, ExactMatch[]>();
  private total = 0;

  get count(): number {
    return this.total;
  }

  add(id: number, bankId: number, value: string): void {
    const one = this.single.get(value);
    if (!one) {
      const many = this.multiple.get(value);
      if (!many) {
        this.single.set(value, { id, bankId });
        this.total++;
      } else if (!many.some((m) => m.id === id)) {
        many.push({ id, bankId });
        this.total++;
      }
      return;
    }
    if (one.id === id) return;
    this.single.delete(value);
    this.multiple.set(value, [one, { id, bankId }]);
    this.total++;
  }

  remove(id: number, value: string): boolean {
    const one = this.single.get(value);
    if (one) {
      if (one.id !== id) return false;
      this.single.delete(value);
      this.total--;
      return true;
    }
    const many = this.multiple.get(value);
    const i = many ? many.findIndex((m) => m.id === id) : -1;
    if (!many || i < 0) return false;
    many.splice(i, 1);
    if (many.length === 1) {
      this.multiple.delete(value);
      this.single.set(value, many[0]);
    }
    this.total--;
    return true;
  }

  lookup(value: string, bankFilter?: (bankId: number) => boolean): ExactMatch[] {
    const one = this.single.get(value);
    const all = one ? [one] : (this.multiple.get(value) ?? []);
    return bankFilter ? all.filter((m) => bankFilter(m.bankId)) : [...all];
  }

  /** Rough: Map entries cost about 80 bytes plus the key string. */
  memoryBytes(): number {
    let bytes = 0;
    for (const key of this.single.keys()) bytes += 80 + key.length * 2;
    for (const [key, list] of this.multiple) bytes += 100 + key.length * 2 + list.length * 40;
    return bytes;
  }
}
