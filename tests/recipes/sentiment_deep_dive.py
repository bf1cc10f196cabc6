import json
with open("metrics_agg.json") as f:
    agg = json.load(f)
total_scored = agg["total_scored_conversations"]
sent = agg["sentiment_distribution"]
print(f"Scored: {total_scored}/{agg['total_conversations']} ({agg['coverage_percentage']:.1f}% coverage)")
print(f"\nSentiment:")
for label in ["positive", "neutral", "negative"]:
    count = sent.get(label, 0)
    pct = (count / total_scored * 100) if total_scored else 0
    print(f" {label}: {count} ({pct:.1f}%)")
