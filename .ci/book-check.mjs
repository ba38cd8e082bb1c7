// 在真正的浏览器(无头 Chromium)里打开构建好的课本,检查读者会碰到的三件事:
// 中文正文在、mermaid 时序图画出来了、中文搜索能找到该找的章节。截图留给人看。
//
//   node .ci/book-check.mjs http://127.0.0.1:PORT 截图目录
import puppeteer from "puppeteer-core";

const [base, shots] = process.argv.slice(2);
const problems = [];
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  // 这台机器没有外网:关掉 Chromium 自己的后台联网,免得它一启动就去连谷歌。
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

try {
  const page = await browser.newPage();
  page.on("pageerror", (e) => problems.push(`页面脚本出错: ${e.message}`));
  await page.setViewport({ width: 1280, height: 1600 });

  // 1. 中文正文,以及每一课的时序图。
  const chapters = {
    "basics.html": "Socket 基础",
    "01-udp-server.html": "第 1 课",
    "02-udp-client.html": "第 2 课",
    "03-udp-loop.html": "第 3 课",
    "04-tcp-server.html": "第 4 课",
    "05-tcp-client.html": "第 5 课",
    "06-chat.html": "第 6 课",
  };
  for (const [file, title] of Object.entries(chapters)) {
    await page.goto(`${base}/${file}`, { waitUntil: "networkidle0" });
    const h1 = await page.$eval("main h1", (h) => h.textContent).catch(() => "");
    if (!h1.includes(title)) problems.push(`${file}: 标题应含「${title}」,实际是「${h1}」`);
    if (file !== "basics.html") {
      // mermaid 把 <pre class="mermaid"> 换成一张 SVG;没换说明图没画出来。
      await page.waitForSelector(".mermaid svg", { timeout: 10000 }).catch(() => {});
      const drawn = await page.$$eval(".mermaid svg", (s) => s.length);
      const wanted = await page.$$eval(".mermaid", (s) => s.length);
      if (wanted === 0 || drawn < wanted) problems.push(`${file}: ${wanted} 张时序图只画出了 ${drawn} 张`);
    }
    await page.screenshot({ path: `${shots}/${file.replace(".html", "")}.png` });
  }

  // 2. 中文搜索:词 → 结果里必须有的章节。
  const searches = {
    "套接字": "basics.html",
    "数据报": "01-udp-server.html",
    "超时": "02-udp-client.html",
    "字节流": "04-tcp-server.html",
    "连接被拒绝": "05-tcp-client.html",
    "广播": "06-chat.html",
    "昵称": "06-chat.html",
  };
  for (const [term, expected] of Object.entries(searches)) {
    await page.goto(`${base}/preface.html?q=${encodeURIComponent(term)}`, { waitUntil: "networkidle0" });
    await page.waitForSelector(".pagefind-ui__result-link", { timeout: 15000 }).catch(() => {});
    const links = await page.$$eval(".pagefind-ui__result-link", (as) => as.map((a) => a.getAttribute("href")));
    const pages = [...new Set(links.map((l) => l.split("#")[0].replace(/^\//, "")))];
    console.log(`搜索「${term}」→ ${pages.join(" ") || "(没有结果)"}`);
    if (!pages.includes(expected)) problems.push(`搜索「${term}」的结果里没有 ${expected}`);
  }
  await page.screenshot({ path: `${shots}/search.png` });
} finally {
  await browser.close();
}

if (problems.length) {
  console.error(problems.map((p) => `✗ ${p}`).join("\n"));
  process.exit(1);
}
console.log("✓ 中文正文、时序图和中文搜索都正常");
