import json
with open("metric_analytics.json") as f:
    m = json.load(f)
if not m["is_configured"]:
    print("Metric not found — check the slug.")
else:
    defn = m["definition"]
    unit = defn["value_label"]
    print(f"Metric: {defn['name']} (slug={defn['slug']})")
    if defn.get("last_event_at"):
        print(f"Last event ingested: {defn['last_event_at']}")
    print(f"\nEvents: {m['total_events']}")
    print(f"Total value: {m['total_value']:.2f} {unit}")
    print(f"Avg value: {m['avg_value']:.2f} {unit}")
    print(f"Converting conversations: {m['converting_conversations']}")
    print(f"Eligible (deflected) conversations: {m['eligible_conversations']}")
    print(f"Conversion rate: {m['conversion_rate_pct']:.2f}%")
    print(f"Avg value per converting convo: {m['avg_value_per_conversation']:.2f} {unit}")
    print("\nDaily trend:")
    for pt in m["time_series"]:
        print(f" {pt['date']}: {pt['event_count']} events, "
              f"{pt['total_value']:.2f} {unit}, "
              f"{pt['converting_conversations']} convos")
