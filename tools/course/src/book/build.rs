//! 构建课本,再给它建中文搜索索引。
//!
//! mdBook 自带的搜索不会给中文分词,所以 book.toml 关掉了它,改由 Pagefind 给生成的 HTML
//! 建索引(book/pagefind-search.js 把搜索框放进每一页)。`mdbook serve` 重新构建时会清掉
//! 这个索引:写书时用它预览正文就好,要试搜索,用 `course book --serve`。

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::files::{TempDir, copy_dir};

/// 构建好的书在哪里(book.toml 里有两个渲染器,所以 mdBook 把 HTML 放在 book/book/html)。
pub fn output(book: &Path) -> PathBuf {
    book.join(output_in_book())
}

/// 同一个目录,相对于课本的目录 book/(工具都在 book/ 里运行)。
fn output_in_book() -> PathBuf {
    Path::new("book").join("html")
}

/// 工具没装时说的话:README「读课本」一节里装它的那条命令。
fn install_hint(tool: &str) -> &'static str {
    match tool {
        "pagefind" => "cargo install --locked pagefind@1.6.0 --features extended",
        _ => "cargo install --locked mdbook@0.5.4 mdbook-mermaid@0.17.1",
    }
}

/// 构建 `book`(课本的目录,里面有 book.toml),再建搜索索引。
pub fn build(book: &Path) -> Result<()> {
    // mermaid.min.js 和 mermaid-init.js 不进版本库,第一次构建前生成。
    if !book.join("mermaid.min.js").is_file() {
        tool(book, "mdbook-mermaid", &["install", "."], Stdio::null())?;
    }
    tool(book, "mdbook", &["build", "."], Stdio::inherit())?;

    let html = output(book);
    if !html.join("index.html").is_file() {
        bail!("mdbook 没有生成 {}", html.join("index.html").display());
    }
    // 旧的索引先删掉(mdBook 通常已经清空了输出目录),免得它被复制进副本、和新的混在一起。
    let index = html.join("pagefind");
    if index.exists() {
        fs::remove_dir_all(&index).with_context(|| format!("无法删除旧的 {}", index.display()))?;
    }
    // 给一份副本建索引:去掉 print.html(整本书拼成一页)、index.html(第一章的复制)等,
    // 免得同一段话在搜索结果里出现好几次。参考答案讲解(NN-*-answer.html)也不进索引:
    // 搜一个词,不该把还没做完的学员直接带到答案上。索引写回真正的输出目录。
    let copy = TempDir::new("book-index")?;
    copy_dir(&html, &copy.0)?;
    for entry in fs::read_dir(&copy.0)?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !indexed(&name) {
            fs::remove_file(entry.path())
                .with_context(|| format!("无法删除 {}", entry.path().display()))?;
        }
    }
    // 输出目录写成相对于 book/ 的路径:Windows 上,仓库根目录的规范路径是 `\\?\C:\…`
    // 这种写法,不必让每个工具都认得它。
    let site = copy.0.to_string_lossy().into_owned();
    let index = output_in_book().join("pagefind");
    let index = index.to_string_lossy().into_owned();
    let selector = "#mdbook-content main";
    tool(
        book,
        "pagefind",
        &[
            "--site",
            &site,
            "--output-path",
            &index,
            "--root-selector",
            selector,
        ],
        Stdio::inherit(),
    )
}

/// 生成的这一页进不进搜索索引。
fn indexed(name: &str) -> bool {
    const SKIP: [&str; 4] = ["print.html", "index.html", "404.html", "toc.html"];
    !SKIP.contains(&name) && !name.ends_with("-answer.html")
}

/// 在 `book` 目录里运行一个工具,等它结束;没装、失败都说清楚。
fn tool(book: &Path, name: &str, args: &[&str], stdout: Stdio) -> Result<()> {
    let status = Command::new(name)
        .args(args)
        .current_dir(book)
        .stdin(Stdio::null())
        .stdout(stdout)
        .status();
    match status {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => bail!("{name} {} 失败了({status}),它的输出在上面", args.join(" ")),
        Err(err) if err.kind() == io::ErrorKind::NotFound => bail!(
            "找不到 {name}:先安装它(README 的「读课本」一节):\n  {}",
            install_hint(name)
        ),
        Err(err) => Err(err).with_context(|| format!("无法运行 {name}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 拼成一页的、重复的和参考答案讲解的页面不进索引,章节进。
    #[test]
    fn only_the_chapters_are_indexed() {
        for name in [
            "print.html",
            "index.html",
            "404.html",
            "toc.html",
            "04-tcp-server-answer.html",
        ] {
            assert!(!indexed(name), "{name}");
        }
        for name in ["04-tcp-server.html", "basics.html", "pitfalls.html"] {
            assert!(indexed(name), "{name}");
        }
    }
}
