// Network partitions for fault tests: each node listens (and dials) on its own loopback address
// 127.0.0.x, and an iptables chain private to the test drops packets between chosen addresses.
// Everything the helper adds is removed by heal()/cleanup(), also when the test fails. Needs root
// (CI runs as root) and iptables (tools/apt-packages.txt).
import { execFileSync } from "node:child_process";

export class NetFault {
  readonly chain: string;
  private installed = false;

  constructor(tag = String(process.pid)) {
    this.chain = `SYNOD-${tag}`.slice(0, 28);
  }

  private iptables(...args: string[]): void {
    execFileSync("iptables", ["-w", ...args], { stdio: ["ignore", "ignore", "pipe"] });
  }

  install(): void {
    if (this.installed) return;
    this.cleanup();
    this.iptables("-N", this.chain);
    this.iptables("-I", "INPUT", "-j", this.chain);
    this.installed = true;
  }

  /** Drops every packet between the two groups of addresses, both directions. */
  partition(sideA: readonly string[], sideB: readonly string[]): void {
    this.install();
    for (const a of sideA) {
      for (const b of sideB) {
        this.iptables("-A", this.chain, "-s", a, "-d", b, "-j", "DROP");
        this.iptables("-A", this.chain, "-s", b, "-d", a, "-j", "DROP");
      }
    }
  }

  /** Drops packets from `from` to `to` only (a one-way partition). */
  dropOneWay(from: string, to: string): void {
    this.install();
    this.iptables("-A", this.chain, "-s", from, "-d", to, "-j", "DROP");
  }

  heal(): void {
    if (this.installed) this.iptables("-F", this.chain);
  }

  cleanup(): void {
    for (const args of [["-D", "INPUT", "-j", this.chain], ["-F", this.chain], ["-X", this.chain]]) {
      try {
        this.iptables(...args);
      } catch {
        // not there
      }
    }
    this.installed = false;
  }
}
