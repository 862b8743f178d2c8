// Deterministic sample data for the mock host: a field of runners (bib, name, chip), a
// seeded random generator (so tests and demos are repeatable), and tiny helpers for
// UTC timestamps and hex. Kept apart from the world and the handlers so the simulation stays readable.

const FIRST = [
  "Ana",
  "Bruno",
  "Carla",
  "David",
  "Elena",
  "Fran",
  "Gema",
  "Hugo",
  "Irene",
  "Javier",
  "Karen",
  "Lucas",
  "Marta",
  "Nico",
  "Olga",
  "Pablo",
  "Quique",
  "Rosa",
  "Sergio",
  "Teresa",
  "Ulises",
  "Vera",
  "Wanda",
  "Xavi",
  "Yolanda",
  "Zoe",
  "Aitor",
  "Bea",
  "Carlos",
  "Diana",
];
const LAST = [
  "García",
  "Martín",
  "López",
  "Sánchez",
  "Pérez",
  "Gómez",
  "Ruiz",
  "Díaz",
  "Moreno",
  "Álvarez",
  "Romero",
  "Navarro",
  "Torres",
  "Domínguez",
  "Vázquez",
  "Ramos",
  "Gil",
  "Serrano",
  "Blanco",
  "Molina",
  "Suárez",
  "Ortega",
  "Delgado",
  "Castro",
  "Ortiz",
  "Rubio",
  "Marín",
  "Sanz",
  "Iglesias",
  "Núñez",
];

/** Small seeded PRNG (mulberry32): the mock's randomness is repeatable per seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Runner {
  bib: string;
  name: string;
  chip: string;
  category: string | null;
  /** The wave (`""`: the one start). */
  wave: string;
}

const AGES = [20, 30, 35, 40, 45, 50, 55, 60];

/** A chip code as a RUFUS FREE tag would carry it: the bib as ASCII hex, padded. */
export function chipForBib(bib: string): string {
  let hex = "";
  for (const ch of bib) hex += ch.charCodeAt(0).toString(16).padStart(2, "0");
  return `E2801170${hex.padStart(16, "0")}`.toUpperCase();
}

export function makeField(count: number, seed = 7): Runner[] {
  const r = rng(seed);
  const rc = rng(seed + 1); // categories from their own stream: the names stay as they were
  const out: Runner[] = [];
  for (let i = 1; i <= count; i++) {
    const bib = String(i);
    const name = `${FIRST[Math.floor(r() * FIRST.length)]} ${LAST[Math.floor(r() * LAST.length)]}`;
    const category = `${rc() < 0.45 ? "F" : "M"}${AGES[Math.floor(rc() * AGES.length)]}`;
    // Two waves, as a 10K with a 5K a few minutes later.
    const wave = i <= Math.ceil(count * 0.6) ? "10K" : "5K";
    out.push({ bib, name, chip: chipForBib(bib), category, wave });
  }
  return out;
}

/** Fisher–Yates with a seeded generator: the order runners cross the line. */
export function shuffled<T>(items: T[], r: () => number): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** UTC timestamp text as the backend stores it (RFC 3339, milliseconds, Z). */
export function isoUtc(ms: number): string {
  return new Date(ms).toISOString();
}

export function randomHex(r: () => number, bytes: number): string {
  let s = "";
  for (let i = 0; i < bytes; i++)
    s += Math.floor(r() * 256)
      .toString(16)
      .padStart(2, "0");
  return s;
}
