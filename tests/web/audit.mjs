// Runs graphql-http's GraphQL-over-HTTP audit (every MUST and SHOULD it knows)
// against a live server. Usage: node audit.mjs <url>; prints JSON.
import { auditServer } from "graphql-http";

const results = await auditServer({ url: process.argv[2] });
console.log(
  JSON.stringify(results.map((r) => ({ id: r.id, name: r.name, status: r.status, reason: r.reason }))),
);
