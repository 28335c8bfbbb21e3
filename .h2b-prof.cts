const { replayFiles } = require('/work/main/src/replay/index');
(async () => { const t=Date.now(); const r = await replayFiles({logs:'/tmp/h2b/med300k.jsonl'}); console.log(Date.now()-t, r.detection.detectMs, r.detection.runs, r.detection.linkage); })();
