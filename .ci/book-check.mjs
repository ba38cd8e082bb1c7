// 在真正的浏览器(无头 Chromium)里打开构建好的课本,检查读者会碰到的几件事:
// 中文正文在;每一张 mermaid 图都画出来了,字也看得清;中文搜索找得到该找的章节,
// 第一屏的每一条结果都真的含有要找的词;命令行选项没有被排版成破折号。截图留给人看。
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

  // 1. 中文正文:每一课的标题。
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
  }

  // 2. 图:侧栏里每一页的每一张 mermaid 图都画出来了,而且在 1280 像素宽的窗口里,图上最小的字
  //    也不小于 MIN_FONT_PX。图比正文栏宽时,浏览器把整张图缩小,字跟着变小:一个很长的箭头标签
  //    就能让一张时序图的字缩到七八个像素,桌面上看不清,手机上更看不清(issue 14)。
  const MIN_FONT_PX = 11;
  await page.goto(`${base}/preface.html`, { waitUntil: "networkidle0" });
  const pages = [...new Set(await page.$$eval(".sidebar a[href]", (as) =>
    as.map((a) => a.getAttribute("href").split("#")[0]).filter((h) => h.endsWith(".html"))))];
  let diagrams = 0;
  for (const file of pages) {
    await page.goto(`${base}/${file}`, { waitUntil: "networkidle0" });
    const wanted = await page.$$eval(".mermaid", (s) => s.length);
    if (wanted === 0) continue;
    // mermaid 把 <pre class="mermaid"> 换成一张 SVG;没换说明图没画出来。
    await page.waitForFunction((n) => document.querySelectorAll(".mermaid svg").length >= n,
      { timeout: 10000 }, wanted).catch(() => {});
    const sizes = await page.$$eval(".mermaid svg", (svgs) => svgs.map((svg) => {
      // 每一段文字实际显示出来的字号 = 它的 CSS 字号 × 从 SVG 坐标到屏幕的缩放。
      let smallest = Infinity, text = "";
      const walker = document.createTreeWalker(svg, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const el = node.parentElement;
        if (!node.textContent.trim() || !el || el.closest("style, title, desc")) continue;
        // 流程图的标签是 foreignObject 里的 HTML,时序图的是 SVG 的 text。
        const holder = el instanceof SVGGraphicsElement ? el : el.closest("foreignObject");
        const ctm = holder?.getScreenCTM();
        if (!ctm) continue;
        const px = parseFloat(getComputedStyle(el).fontSize) * Math.hypot(ctm.a, ctm.b);
        if (px < smallest) [smallest, text] = [px, node.textContent.trim()];
      }
      return { width: Math.round(svg.viewBox.baseVal.width), shown: Math.round(svg.getBoundingClientRect().width), smallest, text };
    }));
    if (sizes.length < wanted) problems.push(`${file}: ${wanted} 张图只画出了 ${sizes.length} 张`);
    sizes.forEach(({ width, shown, smallest, text }, i) => {
      diagrams += 1;
      console.log(`图 ${file} #${i + 1}:宽 ${width} 像素,显示成 ${shown} 像素,最小的字 ${smallest.toFixed(1)} 像素(「${text.slice(0, 20)}」)`);
      if (!(smallest >= MIN_FONT_PX)) {
        problems.push(`${file} 的第 ${i + 1} 张图太宽(${width} 像素,缩到 ${shown} 像素),` +
          `最小的字只有 ${smallest.toFixed(1)} 像素(「${text.slice(0, 20)}」),要不小于 ${MIN_FONT_PX}:` +
          "把最长的标签改短、拆成两行(<br/>),或者少放几个参与者");
      }
    });
    await page.screenshot({ path: `${shots}/${file.replace(".html", "")}.png` });
  }
  if (diagrams === 0) problems.push("书里一张 mermaid 图也没有找到");

  // 3. 中文搜索。读者会搜的词 → 讲它的那一章。对每个词,像读者一样在搜索框里搜:
  //    - 第一屏的每一条结果(每一页和它下面列出的每一节),摘录里都真的有这个词,链到的页面里也有;
  //    - 讲它的那一章在第一屏里;
  //    - 「含有这个词的有 N 页」的 N,正好是书里(不算参考答案讲解)正文含有这个词的页数:
  //      一页不多,一页不少。
  //    以前搜「重连」有 12 页,10 页根本没有这个词;「套接字」的「字」配上了「字节」;
  //    「发送缓冲区」排第一的那页没有这个词(issue 14)。
  const searches = {
    "套接字": "basics.html",
    "粘包": "04-tcp-server.html",
    "拆包": "04-tcp-server.html",
    "半包": "04-tcp-server.html",
    "三次握手": "04-tcp-server.html",
    "四次挥手": "04-tcp-server.html",
    "长连接": "04-tcp-server.html",
    "端口占用": "pitfalls.html",
    "端口复用": "pitfalls.html",
    "心跳包": "pitfalls.html",
    "多路复用": "pitfalls.html",
    "阻塞": "basics.html",
    "超时": "02-udp-client.html",
    "数据报": "01-udp-server.html",
    "字节流": "04-tcp-server.html",
    "连接被拒绝": "05-tcp-client.html",
    "发送缓冲区": "04-tcp-server.html",
    "重连": "06-chat.html",
    "广播": "06-chat.html",
    "昵称": "06-chat.html",
  };
  // 和搜索框同样的归一化:空白并成一个空格,两个汉字之间的空白去掉,英文不分大小写。
  const cjk = "\\u3400-\\u9fff\\uf900-\\ufaff\\u3040-\\u30ff";
  const normalize = (text) => text.replace(/\s+/g, " ")
    .replace(new RegExp(`([${cjk}]) (?=[${cjk}])`, "gu"), "$1").toLowerCase();
  // 每一页正文的文字(构建出来的 HTML,不是浏览器画出来的样子:搜索索引的也是它)。
  const texts = {};
  for (const file of pages.filter((f) => !f.endsWith("-answer.html"))) {
    texts[file] = normalize(await page.evaluate(async (url) => {
      const html = await (await fetch(url)).text();
      const doc = new DOMParser().parseFromString(html, "text/html");
      return doc.querySelector("#mdbook-content main")?.textContent ?? "";
    }, `${base}/${file}`));
  }
  for (const [term, expected] of Object.entries(searches)) {
    await page.goto(`${base}/preface.html?q=${encodeURIComponent(term)}`, { waitUntil: "networkidle0" });
    await page.waitForFunction(() => {
      const status = document.querySelector("#course-search .course-search-status")?.textContent ?? "";
      return status !== "" && !status.startsWith("正在");
    }, { timeout: 15000 }).catch(() => {});
    const shown = await page.evaluate(() => ({
      status: document.querySelector("#course-search .course-search-status")?.textContent ?? "(没有搜索框)",
      results: [...document.querySelectorAll("#course-search .course-search-result")].map((r) => ({
        href: r.querySelector(":scope > a")?.getAttribute("href") ?? "",
        excerpt: r.querySelector(":scope > p")?.textContent ?? "",
        sections: [...r.querySelectorAll(".course-search-section")].map((s) => ({
          href: s.querySelector("a")?.getAttribute("href") ?? "",
          excerpt: s.querySelector("p")?.textContent ?? "",
        })),
      })),
    }));
    const file = (href) => decodeURIComponent(href.split("#")[0].split("/").pop());
    const found = shown.results.map((r) => file(r.href));
    const truth = Object.keys(texts).filter((f) => texts[f].includes(term));
    console.log(`搜索「${term}」:${shown.status};第一屏 ${found.join(" ") || "(没有结果)"}`);
    if (!found.includes(expected)) problems.push(`搜索「${term}」的第一屏里没有 ${expected}`);
    for (const r of shown.results) {
      if (!r.excerpt && r.sections.length === 0) {
        problems.push(`搜索「${term}」的结果 ${decodeURIComponent(r.href)} 下面既没有摘录,也没有列出哪一节`);
      }
      for (const entry of [r, ...r.sections]) {
        if (entry === r && !r.excerpt) {
          if (!(texts[file(r.href)] ?? "").includes(term)) {
            problems.push(`搜索「${term}」的结果 ${decodeURIComponent(r.href)} 链到的页面里没有这个词`);
          }
          continue;
        }
        if (!normalize(entry.excerpt).includes(term)) {
          problems.push(`搜索「${term}」的结果 ${decodeURIComponent(entry.href)} 的摘录里没有这个词:「${entry.excerpt}」`);
        }
        if (!(texts[file(entry.href)] ?? "").includes(term)) {
          problems.push(`搜索「${term}」的结果 ${decodeURIComponent(entry.href)} 链到的页面里没有这个词`);
        }
      }
    }
    const count = Number((shown.status.match(/有 (\d+) 页/) ?? [])[1] ?? 0);
    if (count !== truth.length) {
      problems.push(`搜索「${term}」说有 ${count} 页,可书里含有这个词的是 ${truth.length} 页:${truth.join(" ")}`);
    }
  }
  await page.screenshot({ path: `${shots}/search.png` });

  // 4. mdBook 的「智能标点」会把正文里的 --host 变成 –host(一个短破折号),照着抄就错了。
  for (const [file, text] of Object.entries(texts)) {
    const dash = text.match(/.{0,12}–[a-z].{0,12}/);
    if (dash) problems.push(`${file}: 「${dash[0]}」里的 – 原本是 --(book.toml 要关掉 smart-punctuation)`);
  }
} finally {
  await browser.close();
}

if (problems.length) {
  console.error(problems.map((p) => `✗ ${p}`).join("\n"));
  process.exit(1);
}
console.log("✓ 中文正文、时序图和中文搜索都正常");
