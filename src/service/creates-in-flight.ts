/**
 * Room creates between the caps check and the insert, counted per creator IP and in all (issue 5).
 *
 * A create with a password spends a scrypt (60 ms of a core, one at a time) between the check of
 * MAX_ROOMS / MAX_ROOMS_PER_IP and the store's atomic insert. Without counting the creates still on
 * their way, a burst of creates from many sockets of one IP all passed the check before the first
 * was inserted: under the room flood of `npm run bench:abuse`, 119 creates were hashed for 20 rooms
 * (server CPU 89 %). The insert stays the authority (it also holds across instances); this only
 * spares the hashes of creates that cannot succeed on this instance.
 *
 * A create counts the ones that began before it, not after: otherwise a burst would see each other
 * and all be refused.
 */
export interface InFlight {
  /** Creates from the same IP that began before this one and have not landed. */
  aheadFromIp(): number;
  /** Creates from anyone that began before this one and have not landed. */
  ahead(): number;
  /** This create has landed (its insert answered) or given up; idempotent. */
  done(): void;
}

export class CreatesInFlight {
  private next = 0;
  /** Tickets in flight, oldest first. */
  private readonly all: number[] = [];
  private readonly byIp = new Map<string, number[]>();

  begin(ip: string): InFlight {
    const ticket = this.next++;
    this.all.push(ticket);
    let mine = this.byIp.get(ip);
    if (!mine) this.byIp.set(ip, (mine = []));
    mine.push(ticket);
    let landed = false;
    const ahead = (list: number[] | undefined) => Math.max(0, list?.indexOf(ticket) ?? 0);
    return {
      aheadFromIp: () => ahead(this.byIp.get(ip)),
      ahead: () => ahead(this.all),
      done: () => {
        if (landed) return;
        landed = true;
        remove(this.all, ticket);
        const list = this.byIp.get(ip);
        if (list && remove(list, ticket) === 0) this.byIp.delete(ip);
      },
    };
  }
}

/** Removes `ticket` from `list`; returns the length left. */
function remove(list: number[], ticket: number): number {
  const i = list.indexOf(ticket);
  if (i >= 0) list.splice(i, 1);
  return list.length;
}
