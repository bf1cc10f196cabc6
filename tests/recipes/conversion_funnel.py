import json
import subprocess
with open("playbooks.json") as f:
    playbooks = json.load(f)
bases = {pb["base_id"]: pb["name"] for pb in playbooks}
rows = []
for base_id, name in bases.items():
    out = f"metric_{base_id}.json"
    subprocess.run([
        "python3", "scripts/fetch.py",
        f"/projects/{__import__('os').environ['STUDIO_PROJECT_ID']}/conversion-metrics/SLUG/analytics",
        "--params",
        "start_date=2026-04-01T00:00:00Z",
        "end_date=2026-05-01T00:00:00Z",
        f"playbook_base_id={base_id}",
        "-o", out,
    ], check=True)
    with open(out) as f:
        m = json.load(f)
    if not m["is_configured"]:
        continue
    rows.append({
        "assistant": name,
        "eligible": m["eligible_conversations"],
        "converting": m["converting_conversations"],
        "rate": m["conversion_rate_pct"],
        "value": m["total_value"],
    })
rows.sort(key=lambda r: r["rate"], reverse=True)
print(f"{'Assistant':<30} {'Eligible':>10} {'Convert':>10} {'Rate':>8} {'Value':>12}")
for r in rows:
    print(f"{r['assistant']:<30} {r['eligible']:>10} {r['converting']:>10} "
          f"{r['rate']:>7.2f}% {r['value']:>12.2f}")
