import json
with open("csat.json") as f:
    csat = json.load(f)
if not csat["is_configured"]:
    print("CSAT is not configured for this project — skipping.")
else:
    print(f"Rated conversations: {csat['total_rated']}")
    print(f"CSAT (4–5 ★): {csat['csat_score_pct']:.1f}%")
    print(f"DSAT (1–2 ★): {csat['dsat_score_pct']:.1f}%")
    print(f"Response rate: {csat['response_rate_pct']:.1f}% "
          f"({csat['total_rated']}/{csat['eligible_deflected']} eligible)")
    print("\nRating distribution:")
    dist = csat["rating_distribution"]
    for r in ["5", "4", "3", "2", "1"]:
        count = dist.get(r, 0)
        pct = (count / csat["total_rated"] * 100) if csat["total_rated"] else 0
        bar = "█" * int(pct / 2)
        print(f" {r}★: {count:>4} ({pct:5.1f}%) {bar}")
    # Daily CSAT trend
    print("\nDaily CSAT % (skipping empty buckets):")
    for pt in csat["time_series"]:
        if pt["csat_pct"] is None:
            continue
        print(f" {pt['date']}: {pt['csat_pct']:5.1f}% over {pt['total']} ratings")
