package dynamostore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// queryAll runs in through the SDK's Query paginator and calls each for every item, in
// order, stopping after limit items (limit 0 or less: all). in.Limit is set to limit so a
// small request reads a small page.
func queryAll(ctx context.Context, client dynamodb.QueryAPIClient, in *dynamodb.QueryInput, limit int, each func(map[string]types.AttributeValue) error) error {
	if limit > 0 {
		in.Limit = aws.Int32(int32(min(limit, 1000)))
	}
	seen := 0
	pages := dynamodb.NewQueryPaginator(client, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, av := range page.Items {
			if err := each(av); err != nil {
				return err
			}
			if seen++; limit > 0 && seen == limit {
				return nil
			}
		}
	}
	return nil
}
