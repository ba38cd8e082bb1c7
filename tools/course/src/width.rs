//! 文字在终端里占几列:对齐表格用。
//!
//! 汉字、全角标点、假名、韩文占两列,其余占一列(`▶`、`█`、`·` 这些在大多数终端里也是一列)。
//! 这是 Unicode「东亚宽度」里 Wide 和 Fullwidth 的那几段;为对齐几行进度,不值得为它加一个 crate。

/// `text` 在终端里占几列。
pub fn display_width(text: &str) -> usize {
    text.chars().map(char_width).sum()
}

/// 在 `text` 后面补空格,补到占 `width` 列(已经够宽就不补)。
pub fn pad(text: &str, width: usize) -> String {
    let now = display_width(text);
    format!("{text}{}", " ".repeat(width.saturating_sub(now)))
}

fn char_width(c: char) -> usize {
    let wide = matches!(
        c as u32,
        0x1100..=0x115F        // 韩文字母
            | 0x2E80..=0x303E  // 部首、康熙部首、全角标点(、。「」)
            | 0x3041..=0x33FF  // 假名、注音、CJK 符号
            | 0x3400..=0x4DBF  // 扩展 A
            | 0x4E00..=0x9FFF  // 常用汉字
            | 0xA000..=0xA4CF  // 彝文
            | 0xAC00..=0xD7A3  // 韩文音节
            | 0xF900..=0xFAFF  // 兼容汉字
            | 0xFE30..=0xFE4F  // 竖排标点
            | 0xFF00..=0xFF60  // 全角 ASCII(,:()
            | 0xFFE0..=0xFFE6  // 全角符号
            | 0x1F300..=0x1F64F // 表情
            | 0x1F900..=0x1F9FF
            | 0x20000..=0x3FFFD // 扩展 B 以后
    );
    if wide { 2 } else { 1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_takes_two_columns_and_symbols_one() {
        assert_eq!(display_width("第 1 课"), 7);
        assert_eq!(display_width("UDP"), 3);
        assert_eq!(display_width("边改边评"), 8);
        // 全角的逗号和句号也占两列;半角的逗号占一列。
        assert_eq!(display_width("「你好」\u{ff0c}世界\u{3002}"), 16);
        assert_eq!(display_width("你好,世界"), 9);
        assert_eq!(display_width("▶ █░ · ✓"), 8);
        assert_eq!(display_width(""), 0);
    }

    #[test]
    fn padding_counts_columns_not_chars() {
        assert_eq!(pad("读", 6), "读    ");
        assert_eq!(pad("评分", 6), "评分  ");
        assert_eq!(pad("abc", 6), "abc   ");
        assert_eq!(pad("边改边评", 4), "边改边评");
        let labels = ["打开", "读", "边改边评", "卡住了"];
        assert!(labels.iter().all(|l| display_width(&pad(l, 8)) == 8));
    }
}
