using FastNet.Data;

namespace FastNet.Tests.Data;

public class DatasetTests
{
    private static Dataset Numbered(int count)
    {
        // Sample i has features [i, -i] and label i % 3: every row can be traced after a shuffle.
        var features = new float[count * 2];
        var labels = new int[count];
        for (int i = 0; i < count; i++) (features[2 * i], features[2 * i + 1], labels[i]) = (i, -i, i % 3);
        return Dataset.WithLabels(features, 2, labels, 3);
    }

    [Fact]
    public void SeededSplitIsAPartitionAndRepeatable()
    {
        Dataset all = Numbered(100);
        var (train, test) = all.Split(80, seed: 5);
        Assert.Equal((80, 20), (train.Count, test.Count));
        var ids = new List<int>();
        foreach (Dataset part in new[] { train, test })
            for (int r = 0; r < part.Count; r++)
            {
                int id = (int)part.Sample(r)[0];
                Assert.Equal(-id, part.Sample(r)[1]);
                Assert.Equal(id % 3, part.Labels[r]);   // labels travel with their rows
                ids.Add(id);
            }

        Assert.Equal(Enumerable.Range(0, 100), ids.Order());   // every sample exactly once
        Assert.NotEqual(Enumerable.Range(0, 80), ids.Take(80));   // actually shuffled
        var (again, _) = all.Split(80, seed: 5);
        Assert.Equal(train.Features.ToArray(), again.Features.ToArray());
        var (other, _) = all.Split(80, seed: 6);
        Assert.NotEqual(train.Features.ToArray(), other.Features.ToArray());
    }

    [Fact]
    public void OneHotRowsMatchTheLabels()
    {
        Dataset oneHot = Numbered(7).ToOneHot();
        Assert.False(oneHot.HasLabels);
        for (int i = 0; i < 7; i++)
            Assert.Equal(Enumerable.Range(0, 3).Select(c => c == i % 3 ? 1f : 0f), oneHot.Targets.Slice(i * 3, 3).ToArray());
        Assert.Throws<InvalidOperationException>(() => oneHot.ToOneHot());
    }

    [Fact]
    public void BadArgumentsThrow()
    {
        Dataset all = Numbered(10);
        Assert.Equal("trainCount", Assert.Throws<ArgumentOutOfRangeException>(() => all.Split(10, 1)).ParamName);
        Assert.Equal("trainCount", Assert.Throws<ArgumentOutOfRangeException>(() => all.Split(0, 1)).ParamName);
        Assert.Equal("indices", Assert.Throws<ArgumentOutOfRangeException>(() => all.Subset([3, 10])).ParamName);
        Assert.Equal("labels", Assert.Throws<ArgumentException>(() => Dataset.WithLabels(new float[4], 2, [0], 3)).ParamName);
        Assert.Equal("labels", Assert.Throws<ArgumentOutOfRangeException>(() => Dataset.WithLabels(new float[4], 2, [0, 3], 3)).ParamName);
        Assert.Equal("features", Assert.Throws<ArgumentException>(() => Dataset.WithLabels(new float[5], 2, [0, 1], 3)).ParamName);
        Assert.Equal("targets", Assert.Throws<ArgumentException>(() => Dataset.WithTargets(new float[4], 2, new float[3], 2)).ParamName);
    }
}
