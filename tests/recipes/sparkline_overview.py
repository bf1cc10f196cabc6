import json
with open("api_tool_sparklines.json") as f:
    sparklines = json.load(f)
print("API Tool activity (last 14 days):")
for tool_id, item in sorted(sparklines.items(), key=lambda x: x[1]['total'], reverse=True):
    trend = " ".join(str(pt['count']) for pt in item['series'][-7:])
    print(f" {tool_id}: {item['total']} total | last 7d: [{trend}]")
with open("toolkit_sparklines.json") as f:
    sparklines = json.load(f)
print("\nToolkit activity (last 14 days):")
for slug, item in sorted(sparklines.items(), key=lambda x: x[1]['total'], reverse=True):
    trend = " ".join(str(pt['count']) for pt in item['series'][-7:])
    print(f" {slug}: {item['total']} total | last 7d: [{trend}]")
with open("skill_sparklines.json") as f:
    sparklines = json.load(f)
print("\nSkill activity (last 14 days):")
for name, item in sorted(sparklines.items(), key=lambda x: x[1]['total'], reverse=True):
    trend = " ".join(str(pt['count']) for pt in item['series'][-7:])
    print(f" {name}: {item['total']} total | last 7d: [{trend}]")
