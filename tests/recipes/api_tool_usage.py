import json
with open("api_tool_usage.json") as f:
    data = json.load(f)
print(f"Total calls: {data['total_calls']}")
print(f"Success: {data['successful_calls']} | Failed: {data['failed_calls']}")
if data['avg_duration_ms']:
    print(f"Avg duration: {data['avg_duration_ms']:.0f}ms")
success_rate = (data['successful_calls'] / data['total_calls'] * 100) if data['total_calls'] else 0
print(f"Success rate: {success_rate:.1f}%")
print("\nDaily trend:")
for pt in data.get("time_series", []):
    print(f" {pt['date']}: {pt['count']} calls ({pt['success_count']} ok)")
