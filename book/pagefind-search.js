// 中文搜索。
//
// mdBook 自带的搜索按空格和标点切词:一整段中文成了一个「词」,于是搜不到 套接字、广播、超时
// (mdBook 上游的 #1081、#2393)。所以我们关掉它,改用 Pagefind:构建完书以后,
// `pagefind --site …` 给生成的 HTML 建索引(extended 版用 ICU 给中文分词,见 tools/course/src/book/build.rs)。
// 全部是静态文件,离线可用。
//
// Pagefind 自带的搜索框直接用它的排序,可它对中文太「宽」:浏览器把「重连」切成「重」「连」,
// 再按前缀找,于是「重置」「连接」也算命中(搜「重连」出来 12 页,只有 2 页真有这个词);
// 「套接字」里的「字」匹配上了「字节」「字符」;「发送缓冲区」排在第一的那页根本没有这个词。
// 加引号的精确搜索又靠不住:建索引时(ICU4X)和浏览器里(ICU4C)切词不总一致,一些真有这个词的
// 地方就找不到了。所以这里只让 Pagefind 找「候选页」(它找得全),然后自己在每一页的正文里
// 逐字找这个词:不含这个词的页不显示,排序、摘录和「在哪一节」都按真正出现的地方来算。
// .ci/book-check 在真的浏览器里核对:十几个关键词,第一屏的每一条结果都真的含有这个词。
//
// 没有建索引时(比如只运行了 `mdbook serve`),搜索框会说明怎么建,而不是悄悄失效。
// 地址里带 `?q=关键词` 时,打开页面就直接搜索(检查脚本靠它)。
(function () {
  "use strict";

  const root = typeof path_to_root === "string" ? path_to_root : "";
  // 绝对地址:Pagefind 用 import() 加载自己的模块,相对路径会按它自己的位置解析。
  const rootUrl = new URL(root || "./", document.baseURI);
  const bundle = new URL("pagefind/", rootUrl).href;
  const main = document.querySelector("#mdbook-content main");
  if (!main) {
    return;
  }

  const PAGE_SIZE = 5; // 第一屏显示几页结果
  const SECTIONS = 3; // 每一页最多列出几节
  const CONTEXT = 40; // 摘录里,词的前后各留多少个字符

  const style = document.createElement("style");
  style.textContent = `
    #course-search { margin-bottom: 2em; }
    #course-search input {
      width: 100%; box-sizing: border-box; padding: 0.5em 0.8em; font-size: 1.05em;
      border: 1px solid var(--searchbar-border-color, #aaa); border-radius: 4px;
      background: var(--searchbar-bg, #fff); color: var(--searchbar-fg, #000);
    }
    #course-search .course-search-status { margin: 0.6em 0; color: var(--fg); opacity: 0.8; }
    #course-search ol { list-style: none; padding: 0; margin: 0; }
    #course-search .course-search-result {
      padding: 0.6em 0; border-bottom: 1px solid var(--searchresults-border-color, #ddd);
    }
    #course-search .course-search-result > a { font-weight: bold; font-size: 1.05em; }
    #course-search .course-search-result p { margin: 0.3em 0; }
    #course-search .course-search-result ul { margin: 0.3em 0 0 0; padding-left: 1.2em; }
    #course-search mark { background: var(--search-mark-bg, #e3b171); color: inherit; padding: 0 1px; }
    #course-search button { margin-top: 0.8em; }
  `;
  document.head.appendChild(style);

  const box = document.createElement("div");
  box.id = "course-search";
  box.setAttribute("data-pagefind-ignore", "all");
  box.innerHTML =
    '<input type="search" placeholder="搜索本书,比如:粘包、超时、连接被拒绝" aria-label="搜索本书">' +
    '<div class="course-search-status" role="status" aria-live="polite"></div>' +
    '<ol class="course-search-results"></ol>';
  main.prepend(box);
  const input = box.querySelector("input");
  const status = box.querySelector(".course-search-status");
  const list = box.querySelector("ol");

  let pagefind = null;
  let loading = null;
  function load() {
    loading ??= import(bundle + "pagefind.js").then(async (module) => {
      await module.options({ baseUrl: rootUrl.pathname });
      await module.init();
      pagefind = module;
      return module;
    });
    return loading;
  }

  const isCjk = (c) => /[\u3400-\u9fff\uf900-\ufaff\u3040-\u30ff]/u.test(c);
  const escape = (s) =>
    s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

  // 一页正文还原成文字,并记下每个字符属于 Pagefind 的第几个词(小节的位置按词算)。
  // raw_content 里每个词后面跟着一个零宽空格;原文里有空白的地方还有一个普通空格。
  // 两个汉字之间的空格(原文换行留下的)去掉,「三次\n握手」也算「三次握手」。
  function readPage(data) {
    let text = "";
    const owner = [];
    const starts = [];
    data.raw_content.split("\u200b").forEach((word, index) => {
      starts[index] = text.length;
      for (const c of word) {
        if (/\s/.test(c)) {
          if (text.endsWith(" ")) continue;
          text += " ";
        } else {
          if (text.endsWith(" ") && isCjk(c) && isCjk(text.at(-2) ?? "")) {
            text = text.slice(0, -1);
            owner.pop();
          }
          text += c;
        }
        owner.push(index);
      }
    });
    return { text, lower: text.toLowerCase(), owner, starts };
  }

  // 每个词在这一页里出现的位置(字符下标)。
  function find(page, token) {
    const at = [];
    for (let i = page.lower.indexOf(token); i !== -1; i = page.lower.indexOf(token, i + token.length)) {
      at.push(i);
    }
    return at;
  }

  // 摘录:词的前后各留一段,开头尽量从一句话(或一个小标题)的开头算起。
  function excerpt(page, start, tokens) {
    let from = Math.max(0, start - CONTEXT);
    const before = page.text.slice(from, Math.max(from, start - 8));
    const boundary = Math.max(...["。", "；", "！", "？", ". ", "：", "，"].map((b) => {
      const at = before.lastIndexOf(b);
      return at === -1 ? -1 : at + b.length;
    }));
    if (boundary > 0) from += boundary;
    const to = Math.min(page.text.length, start + CONTEXT + tokens[0].length);
    const piece = page.text.slice(from, to);
    const lower = piece.toLowerCase();
    let html = "";
    let i = 0;
    while (i < piece.length) {
      const token = tokens.find((t) => lower.startsWith(t, i));
      if (token) {
        html += `<mark>${escape(piece.slice(i, i + token.length))}</mark>`;
        i += token.length;
      } else {
        html += escape(piece[i]);
        i += 1;
      }
    }
    return (from > 0 ? "…" : "") + html + (to < page.text.length ? "…" : "");
  }

  // 一页的得分:出现的次数(标题里的一次算好几次),按页面长短折算(BM25 的写法);
  // 页面标题里就有这个词的,排在前面。
  const HEADING_WEIGHT = { h1: 8, h2: 6, h3: 4 };
  function rank(candidates, tokens) {
    const pages = [];
    for (const { data } of candidates) {
      const page = readPage(data);
      const headings = (data.anchors ?? [])
        .filter((a) => /^h[1-6]$/.test(a.element))
        .map((a) => ({ ...a, start: page.starts[a.location] ?? -1 }));
      const section = (at) => {
        const word = page.owner[at];
        let found = null;
        for (const h of headings) if (h.location <= word) found = h;
        return found;
      };
      const hits = tokens.map((t) => find(page, t));
      if (hits.some((h) => h.length === 0)) continue;
      let weight = 0;
      const sections = new Map();
      hits.flat().forEach((at) => {
        const h = section(at);
        const inHeading = h && at >= h.start && at < h.start + h.text.length;
        const w = inHeading ? (HEADING_WEIGHT[h.element] ?? 3) : 1;
        weight += w;
        const key = h ? h.id : "";
        const s = sections.get(key) ?? { heading: h, weight: 0, first: at, body: null };
        s.weight += w;
        s.first = Math.min(s.first, at);
        if (!inHeading && (s.body === null || at < s.body)) s.body = at;
        sections.set(key, s);
      });
      pages.push({ data, page, hits, weight, sections: [...sections.values()] });
    }
    const average = pages.reduce((sum, p) => sum + p.data.word_count, 0) / (pages.length || 1);
    for (const p of pages) {
      const norm = 1.2 * (0.25 + (0.75 * p.data.word_count) / average);
      const title = (p.data.meta?.title ?? "").toLowerCase();
      p.score = (p.weight * 2.2) / (p.weight + norm) + (tokens.every((t) => title.includes(t)) ? 3 : 0);
    }
    return pages.sort((a, b) => b.score - a.score);
  }

  function render(found, tokens, shown) {
    list.innerHTML = "";
    for (const p of found.slice(0, shown)) {
      const item = document.createElement("li");
      item.className = "course-search-result";
      let html = `<a href="${escape(p.data.url)}">${escape(p.data.meta?.title ?? p.data.url)}</a>`;
      // 词出现在哪几节,就列哪几节(最多 SECTIONS 节),每一节一段摘录;
      // 只出现在第一个小标题之前的,摘录直接放在页面标题下面。
      const sections = p.sections
        .filter((s) => s.heading && s.heading.element !== "h1")
        .sort((a, b) => b.weight - a.weight || a.first - b.first)
        .slice(0, SECTIONS);
      if (!sections.length) {
        html += `<p>${excerpt(p.page, Math.min(...p.hits[0]), tokens)}</p>`;
      } else {
        html += "<ul>";
        for (const s of sections) {
          const url = `${p.data.url.split("#")[0]}#${encodeURIComponent(s.heading.id)}`;
          html +=
            `<li class="course-search-section"><a href="${escape(url)}">${escape(s.heading.text)}</a>` +
            `<p>${excerpt(p.page, s.body ?? s.first, tokens)}</p></li>`;
        }
        html += "</ul>";
      }
      item.innerHTML = html;
      list.appendChild(item);
    }
    box.querySelector("button")?.remove();
    if (found.length > shown) {
      const more = document.createElement("button");
      more.type = "button";
      more.textContent = `再显示 ${Math.min(PAGE_SIZE, found.length - shown)} 页`;
      more.onclick = () => render(found, tokens, shown + PAGE_SIZE);
      box.appendChild(more);
    }
  }

  let latest = 0;
  async function search(query) {
    const ticket = ++latest;
    const tokens = query.toLowerCase().split(/\s+/).filter(Boolean);
    if (tokens.length === 0) {
      status.textContent = "";
      list.innerHTML = "";
      box.querySelector("button")?.remove();
      return;
    }
    status.textContent = "正在搜索……";
    let module;
    try {
      module = pagefind ?? (await load());
    } catch {
      status.textContent =
        "搜索索引还没有生成:在仓库根目录运行 `cargo run -p course -- book --open`(它构建书、建索引," +
        "再在浏览器里打开 http://127.0.0.1:3000/)。`mdbook serve` 重新构建时会清掉索引。";
      return;
    }
    const response = await module.search(query);
    const candidates = await Promise.all(
      response.results.map(async (result) => ({ data: await result.data() })),
    );
    if (ticket !== latest) return; // 用户已经在搜别的了
    const found = rank(candidates, tokens);
    const what = tokens.map((t) => `「${t}」`).join("");
    status.textContent = found.length
      ? `${tokens.length > 1 ? "同时含有" : "含有"}${what}的有 ${found.length} 页`
      : `没有找到含有${what}的页面`;
    render(found, tokens, PAGE_SIZE);
  }

  let timer = null;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => search(input.value.trim()), 200);
  });
  input.addEventListener("focus", () => load().catch(() => {}), { once: true });

  const query = new URLSearchParams(window.location.search).get("q");
  if (query) {
    input.value = query;
    search(query.trim());
  }
})();
