import json
with open("toolkit_usage.json") as f:
    data = json.load(f)
print(f"Total calls: {data['total_calls']}")
print(f"Success: {data['successful_calls']} | Failed: {data['failed_calls']}")
print("\nBy Action:")
for action in data.get("by_action", []):
    rate = (action['success_count'] / action['count'] * 100) if action['count'] else 0
    print(f" {action['action_name']}: {action['count']} calls ({rate:.0f}% success)")
print("\nRecent failures:")
for item in data.get("recent", []):
    if not item['success']:
        print(f" [{item['created_at']}] {item['action_name']}: {item.get('error_message', 'unknown')}")
